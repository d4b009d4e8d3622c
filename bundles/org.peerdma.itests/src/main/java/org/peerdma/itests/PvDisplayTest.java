package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.xen.hv.Hypervisor;

/**
 * The para-virtual display pair end to end: a guest framework renders, dom0's backend imports the
 * guest's pages with gntdev and writes PNGs; the guest crashes mid-stream and the backend reports
 * the loss, with every frame of the guest reclaimed.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class PvDisplayTest {
    @InjectBundleContext
    BundleContext ctx;

    @InjectService(timeout = 5000)
    CommandProcessor processor;

    private static String status(Shell sh) {
        try {
            return sh.run("displ:status");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aGuestsFramesReachDom0WithoutCopiesUntilItCrashes() throws Exception {
        Shell sh = new Shell(processor);
        Hypervisor hv = Runtime.await(ctx, Hypervisor.class, 5000);
        long free0 = hv.freeFrames();
        Matcher m = Pattern.compile("id (\\d+)").matcher(sh.run("xl:create name=itest-fe memory=32"));
        assertThat(m.find()).isTrue();
        int id = Integer.parseInt(m.group(1));
        Path dir = Files.createTempDirectory("pvdispl");
        try {
            sh.run("xl:exec itest-fe displ:connect 320 200");
            sh.run("xl:exec itest-fe displ:render 1");
            assertThat(sh.run("displ:attach " + id)).contains("320x200");
            assertThat(sh.run("xl:exec itest-fe displ:render 2 5")).contains("last 6");
            Runtime.eventually("frame 6 seen by the backend", 5000, () -> status(sh).contains("frame 6"));
            File png = dir.resolve("frame6.png").toFile();
            assertThat(sh.run("displ:png " + id + " " + png)).contains("frame 6");
            BufferedImage img = ImageIO.read(png);
            assertThat(img.getWidth()).isEqualTo(320);
            assertThat(img.getHeight()).isEqualTo(200);
            // the moving square of frame 6 sits at x = 48, the middle row: white
            assertThat(img.getRGB(48 + 8, 100)).isEqualTo(0xffffffff);
            assertThat(img.getRGB(0, 0)).isEqualTo(0xff000000 | (24 & 0xff) << 16 | (12 & 0xff) << 8 | (96 & 0xff));
            sh.run("xl:crash itest-fe");
            Runtime.eventually("the backend notices", 5000, () -> status(sh).contains("LOST"));
            assertThatThrownBy(() -> sh.run("displ:png " + id + " " + dir.resolve("after.png"))).hasMessageContaining("lost");
            assertThat(hv.info(id)).as("dom0 released the frames: the domain is gone").isEmpty();
            assertThat(hv.freeFrames()).isEqualTo(free0);
            sh.run("displ:detach " + id);
            assertThat(sh.run("displ:status")).isEqualTo("no displays attached");
        } finally {
            if (hv.info(id).isPresent() && sh.run("xl:list").contains("itest-fe")) {
                try {
                    sh.run("xl:destroy itest-fe");
                } catch (Exception e) {
                    // already gone
                }
            }
            try (var files = Files.list(dir)) {
                files.forEach(p -> p.toFile().delete());
            }
            Files.delete(dir);
        }
    }
}
