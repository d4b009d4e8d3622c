package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.errno.KernelException;
import org.peerdma.xen.hv.Hypervisor;

/**
 * hyper_dmabuf under load when a guest crashes: an exporter guest keeps exporting buffers to an importer
 * guest, which keeps importing, reading and closing them, and one of the two crashes in the middle of it
 * (an EXPORT or an import in flight). The survivor's calls fail with an errno, nothing hangs, and once both
 * are destroyed every machine frame is back.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class XenCrashUnderLoadTest {
    @InjectBundleContext
    BundleContext ctx;

    @InjectService(timeout = 5000)
    CommandProcessor processor;

    private static String group(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        if (!m.find()) {
            throw new AssertionError("no " + regex + " in: " + out);
        }
        return m.group(1);
    }

    private static String quiet(Shell sh, String cmd) {
        try {
            return sh.run(cmd);
        } catch (Exception e) {
            return e.getMessage();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cx-exp", "cx-imp"})
    void aGuestCrashingMidTransferLeavesNothingBehind(String victim) throws Exception {
        Shell sh = new Shell(processor);
        Hypervisor hv = Runtime.await(ctx, Hypervisor.class, 5000);
        long free0 = hv.freeFrames();
        int e = Integer.parseInt(group(sh.run("xl:create name=cx-exp memory=32"), "id (\\d+)"));
        int i = Integer.parseInt(group(sh.run("xl:create name=cx-imp memory=32"), "id (\\d+)"));
        List<String> problems = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong exported = new AtomicLong();
        AtomicLong imported = new AtomicLong();
        List<String> hids = new CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        try {
            sh.run("xl:exec cx-exp hdmabuf:tx " + i);
            sh.run("xl:exec cx-imp hdmabuf:rx " + e);
            sh.run("xl:exec cx-imp hdmabuf:tx " + e);
            sh.run("xl:exec cx-exp hdmabuf:rx " + i);
            threads.add(new Thread(() -> loop(stop, problems, () -> {
                String fd = group(sh.run("xl:exec cx-exp hdmabuf:dumb 64 64"), "fd (\\d+)");
                sh.run("xl:exec cx-exp hdmabuf:write " + fd + " 0 tag" + fd);
                hids.add(group(sh.run("xl:exec cx-exp hdmabuf:export " + fd + " " + i), "hid (\\S+)"));
                exported.incrementAndGet();
                if (hids.size() > 8) { // keep a few shared, give the oldest back
                    sh.run("xl:exec cx-exp hdmabuf:unexport " + hids.remove(0));
                }
            }), "exporter"));
            threads.add(new Thread(() -> loop(stop, problems, () -> {
                if (hids.isEmpty()) {
                    Thread.onSpinWait();
                    return;
                }
                String hid = hids.get(hids.size() - 1);
                String ifd = group(sh.run("xl:exec cx-imp hdmabuf:importfd " + hid), "fd (\\d+)");
                try {
                    assertThat(sh.run("xl:exec cx-imp hdmabuf:read " + ifd + " 0 3")).isEqualTo("tag");
                    imported.incrementAndGet();
                } finally {
                    sh.run("xl:exec cx-imp hdmabuf:close " + ifd);
                }
            }), "importer"));
            threads.forEach(Thread::start);
            Runtime.eventually("transfers under way", 30_000, () -> imported.get() >= 20 || !problems.isEmpty());
            sh.run("xl:crash " + victim);
            long at = exported.get() + imported.get();
            Thread.sleep(300); // the survivor keeps calling: every call must fail with an errno, or work
            stop.set(true);
            for (Thread t : threads) {
                t.join(20_000);
            }
            assertThat(threads).as("threads that hung").noneMatch(Thread::isAlive);
            assertThat(problems).as("failures other than an errno").isEmpty();
            assertThat(at).isPositive();
            // the survivor still works on its own
            String survivor = victim.equals("cx-exp") ? "cx-imp" : "cx-exp";
            assertThat(quiet(sh, "xl:exec " + survivor + " hdmabuf:dumb 64 64")).contains("fd ");
        } finally {
            stop.set(true);
            quiet(sh, "xl:destroy cx-exp");
            quiet(sh, "xl:destroy cx-imp");
        }
        Runtime.eventually("every frame back", 10_000, () -> hv.freeFrames() == free0);
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void loop(AtomicBoolean stop, List<String> problems, Step step) {
        while (!stop.get()) {
            try {
                step.run();
            } catch (KernelException expected) {
                // the other guest crashed: an errno is the answer
            } catch (Throwable ex) {
                String m = String.valueOf(ex.getMessage());
                // a failure reported by the guest's own shell arrives as its message: it must be errno-style
                if (!m.matches("(?s)(.*: )?E[A-Z0-9]+: .*")) {
                    problems.add(Thread.currentThread().getName() + ": " + ex);
                }
            }
        }
    }
}
