package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciBusNotifier;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciDeviceRef;
import org.peerdma.pci.TopologyIO;

/**
 * Modules removed and re-added at run time: rmmod refusing while in use, forced removal, modprobe
 * bringing the module back and its consumers recovering, module parameters at load time.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class ModuleLifecycleTest {
    private static final int SAMPLE_DEVICES = 22;

    @InjectBundleContext
    BundleContext ctx;

    @InjectService
    CommandProcessor processor;

    @InjectService
    ConfigurationAdmin configAdmin;

    Shell sh;

    @BeforeEach
    void setUp() throws Exception {
        sh = new Shell(processor);
        Runtime.await(ctx, PciCore.class, 5000);
        Runtime.eventually("sample machine booted", 5000,
                () -> core().machine().devices().size() == SAMPLE_DEVICES);
    }

    @AfterEach
    void restore() throws Exception {
        Configuration c = configAdmin.getConfiguration("org.peerdma.pci", "?");
        if (c.getProperties() != null) {
            c.delete();
        }
        Runtime.startAll(ctx);
        PciCore core = Runtime.await(ctx, PciCore.class, 5000);
        TopologyIO io = Runtime.await(ctx, TopologyIO.class, 5000);
        core.load(io.sample());
    }

    private PciCore core() {
        return ctx.getService(ctx.getServiceReference(PciCore.class));
    }

    @Test
    void lsmodShowsModulesAndWhoUsesThem() throws Exception {
        String out = sh.run("kmod:lsmod");
        assertThat(out).startsWith("Module");
        String pciLine = out.lines().filter(l -> l.startsWith("pci ")).findFirst().orElseThrow();
        assertThat(pciLine).contains("pci_import").contains("pci_shell");
        assertThat(out.lines().filter(l -> l.startsWith("pci_shell ")).findFirst()).isPresent();
        // library bundles are not kernel modules: listed only on request
        assertThat(out).doesNotContain("com.fasterxml.jackson").doesNotContain("org.apache.felix.scr");
        assertThat(sh.run("kmod:lsmod -b")).contains("com.fasterxml.jackson.core.jackson-databind")
                .contains("org.apache.felix.scr");
    }

    @Test
    void rmmodRefusesWhileInUseAndForcedRemovalRecovers() throws Exception {
        assertThatThrownBy(() -> sh.run("kmod:rmmod pci")).isInstanceOf(KernelException.class)
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.EBUSY))
                .hasMessageContaining("Module pci is in use by:").hasMessageContaining("pci_import");
        assertThat(ctx.getServiceReference(PciCore.class)).isNotNull();

        List<String> added = new CopyOnWriteArrayList<>();
        ServiceRegistration<PciBusNotifier> reg = ctx.registerService(PciBusNotifier.class, new PciBusNotifier() {
            @Override
            public void deviceAdded(PciDevice dev) {
                added.add(dev.name());
            }
        }, null);
        try {
            String forced = sh.run("kmod:rmmod -f pci");
            assertThat(forced).contains("forced").contains("unloaded pci");
            assertThat(Runtime.absent(ctx, PciCore.class)).isTrue();
            assertThatThrownBy(() -> sh.run("pci:lspci")).isNotNull();
            assertThat(sh.run("kmod:lsmod")).doesNotContain("\npci ");
            assertThat(sh.run("kmod:lsmod -a")).containsPattern("(?m)^pci .*Unloaded");

            assertThat(sh.run("kmod:modprobe pci")).contains("loaded pci");
            PciCore back = Runtime.await(ctx, PciCore.class, 5000);
            // the boot loader (a consumer) came back with it and booted the machine again
            Runtime.eventually("machine re-booted after modprobe", 5000,
                    () -> back.machine().devices().size() == SAMPLE_DEVICES);
            Runtime.eventually("notifier saw the devices again", 5000, () -> added.size() >= SAMPLE_DEVICES);
            Runtime.eventually("shell commands back", 5000, () -> {
                try {
                    return sh.run("pci:lspci").contains("03:00.0");
                } catch (Exception ex) {
                    return false;
                }
            });
        } finally {
            reg.unregister();
        }
    }

    @Test
    void liveReferencesKeepTheModuleInUse() throws Exception {
        PciDeviceRef ref = core().acquire(Bdf.parse("03:00.0"), "itest-holder");
        try {
            assertThatThrownBy(() -> sh.run("kmod:rmmod pci"))
                    .hasMessageContaining("live: itest-holder -> 0000:03:00.0");
            assertThat(sh.run("kmod:lsmod")).containsPattern("(?m)^pci .*\\[1 live\\]");
        } finally {
            ref.close();
        }
        assertThat(sh.run("kmod:lsmod")).doesNotContainPattern("(?m)^pci .*live\\]");
    }

    @Test
    void runtimeParametersChangeWhileLoadedAndLoadTimeOnesDoNot() throws Exception {
        ParamProbe probe = Runtime.await(ctx, ParamProbe.class, 5000);
        assertThat(sh.run("kmod:modparam itest_probe")).containsPattern("(?m)^level\\s+rw\\s+1$")
                .containsPattern("(?m)^mode\\s+ro\\s+normal$");
        assertThat(sh.run("kmod:modparam itest_probe level=3")).contains("set level=3");
        Runtime.eventually("component reconfigured", 5000, () -> probe.level == 3);
        assertThat(sh.run("kmod:modparam itest_probe")).containsPattern("(?m)^level\\s+rw\\s+3$");
        assertThatThrownBy(() -> sh.run("kmod:modparam itest_probe mode=fast"))
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.EPERM));
        assertThatThrownBy(() -> sh.run("kmod:modparam itest_probe level=abc"))
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.EINVAL));
        assertThatThrownBy(() -> sh.run("kmod:modparam itest_probe level")).hasMessageContaining("parameter level needs a value (level=...)");
        assertThat(probe.mode).isEqualTo("normal");
        configAdmin.getConfiguration(ParamProbe.PID, "?").delete();
    }

    @Test
    void modprobeInstallsAModuleFromTheModulePathOrAJar() throws Exception {
        org.osgi.framework.Bundle shell = java.util.Arrays.stream(ctx.getBundles())
                .filter(b -> "org.peerdma.pci.shell".equals(b.getSymbolicName())).findFirst().orElseThrow();
        String loc = shell.getLocation().replaceFirst("^reference:", "");
        java.nio.file.Path jar = java.nio.file.Path.of(java.net.URI.create(loc));
        java.nio.file.Path modpath = java.nio.file.Path.of(ctx.getProperty("peerdma.modpath"));
        java.nio.file.Files.createDirectories(modpath);
        java.nio.file.Files.copy(jar, modpath.resolve("pci-shell.jar"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        shell.uninstall();
        ctx.getBundle(0).adapt(org.osgi.framework.wiring.FrameworkWiring.class).refreshBundles(null);
        assertThat(sh.run("kmod:lsmod")).doesNotContain("pci_shell");
        // not installed, but modprobe can load it from the module path: lsmod -a says so
        assertThat(sh.run("kmod:lsmod -a")).containsPattern("(?m)^pci_shell .*Available \\(modprobe pci_shell\\)");
        assertThat(sh.run("kmod:modprobe pci_shell")).contains("loaded pci_shell");
        Runtime.eventually("lspci back after modprobe from the module path", 5000, () -> {
            try {
                return sh.run("pci:lspci").contains("03:00.0");
            } catch (Exception ex) {
                return false;
            }
        });
        assertThat(sh.run("kmod:modinfo pci_shell")).contains(modpath.toUri().toString());

        // a jar path works too
        org.osgi.framework.Bundle again = java.util.Arrays.stream(ctx.getBundles())
                .filter(b -> "org.peerdma.pci.shell".equals(b.getSymbolicName())).findFirst().orElseThrow();
        again.uninstall();
        assertThat(sh.run("kmod:modprobe " + jar)).contains("loaded pci_shell");
        java.nio.file.Path notAJar = java.nio.file.Files.writeString(modpath.resolve("junk.jar"), "not a jar");
        assertThatThrownBy(() -> sh.run("kmod:modprobe " + notAJar)).isInstanceOf(KernelException.class)
                .hasMessageContaining("not a loadable module");
        java.nio.file.Files.delete(notAJar);
    }

    @Test
    void rmmodOfUnknownOrUnloadedModuleSaysSo() throws Exception {
        assertThatThrownBy(() -> sh.run("kmod:rmmod nosuchmod"))
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.ENOENT))
                .hasMessageContaining("nosuchmod");
        sh.run("kmod:rmmod pci_shell");
        assertThatThrownBy(() -> sh.run("kmod:rmmod pci_shell")).hasMessageContaining("is not currently loaded");
        assertThatThrownBy(() -> sh.run("kmod:modprobe nosuchmod")).hasMessageContaining("not found in the module path");
    }

    @Test
    void modinfoListsParametersAndLoadTimeParametersApplyAtModprobe() throws Exception {
        String info = sh.run("kmod:modinfo pci");
        assertThat(info).contains("name:           pci").contains("parm:").contains("disable_acs_redir")
                .contains("[load time]").contains("depends:").contains("base");
        assertThatThrownBy(() -> sh.run("kmod:modparam pci pci=disable_acs_redir=02:08.0"))
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.EPERM))
                .hasMessageContaining("read-only while the module is loaded");
        assertThatThrownBy(() -> sh.run("kmod:modparam pci nosuch=1")).hasMessageContaining("unknown parameter");

        assertThat(core().get(Bdf.parse("02:08.0")).acsCtrl() & Acs.RR).isNotZero();
        sh.run("kmod:rmmod -f pci");
        sh.run("kmod:modprobe pci pci=disable_acs_redir=02:08.0 release=5.15");
        PciCore back = Runtime.await(ctx, PciCore.class, 5000);
        Runtime.eventually("machine re-booted", 5000, () -> back.machine().devices().size() == SAMPLE_DEVICES);
        Runtime.eventually("ACS redirect off on 02:08.0", 5000,
                () -> (back.get(Bdf.parse("02:08.0")).acsCtrl() & Acs.REDIRECT_BITS) == 0);
        assertThat(back.get(Bdf.parse("02:09.0")).acsCtrl() & Acs.RR).isNotZero();
        assertThat(back.cmdlineLog()).contains("0000:02:08.0: disabled ACS redirect")
                .anyMatch(l -> l.startsWith("pci_enable_acs: rules of 5.15 (before 6.11"));
        assertThat(sh.run("kmod:modparam pci")).contains("disable_acs_redir=02:08.0").containsPattern("release +ro +5.15");
        // the IOMMU parameter is checked against its options at modprobe; the runtime keeps working
        sh.run("kmod:rmmod -f pci");
        assertThatThrownBy(() -> sh.run("kmod:modprobe pci iommu=maybe")).hasMessageContaining("iommu");
        sh.run("kmod:modprobe pci iommu=on");
        PciCore on = Runtime.await(ctx, PciCore.class, 5000);
        Runtime.eventually("machine booted with the IOMMU", 5000,
                () -> on.machine().devices().size() == SAMPLE_DEVICES
                        && (on.get(Bdf.parse("02:10.0")).acsCtrl() & Acs.RR) != 0);
        assertThat(on.cmdlineLog()).anyMatch(l -> l.contains("IOMMU on: pci_request_acs()"));
    }
}
