package org.peerdma.pci.shell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDeviceRef;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.ShellTestCores;

class PciCommandsTest {
    private PciCore core;
    private PciCommands cmds;
    private FakeIO fakeIo;

    /** A TopologyIO that hands out the test machines and records writes. */
    static class FakeIO implements TopologyIO {
        final List<String> calls = new ArrayList<>();

        @Override
        public MachineDTO read(Path source, String format) {
            calls.add("read " + source.getFileName() + " " + format);
            MachineDTO m = Machines.elided();
            m.source = source.toString();
            return m;
        }

        @Override
        public MachineDTO readText(String name, String text, String format) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void write(MachineDTO machine, Path target) {
            calls.add("write " + target.getFileName() + " " + machine.devices.size());
        }

        @Override
        public String format(MachineDTO machine, String syntax) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<String> formats() {
            return List.of("lspci-tv");
        }

        @Override
        public MachineDTO sample() {
            calls.add("sample");
            return Machines.small();
        }

        @Override
        public MachineDTO host() {
            throw new KernelException(Errno.ENOENT, "/sys/bus/pci/devices is empty");
        }
    }

    @BeforeEach
    void setUp() {
        core = ShellTestCores.core("");
        core.load(Machines.small());
        cmds = new PciCommands();
        cmds.core = core;
        fakeIo = new FakeIO();
        cmds.io = fakeIo;
    }

    private static KernelException kex(Runnable r) {
        try {
            r.run();
        } catch (KernelException ex) {
            return ex;
        }
        throw new AssertionError("no KernelException");
    }

    @Test
    void lspciCommandStripsTheFinalNewlineAndCombinesSwitches() {
        String tree = cmds.lspci(false, false, false, false, false, true, false, false, "", "");
        assertThat(tree).startsWith("-+-[0000:00]-+-00.0\n").endsWith(" \\-05.0");
        assertThat(cmds.lspci(List.of("-tvnn"))).endsWith("             \\-05.0  Device [1d17:1003]");
        // flags given as parameters and as further switches add up: -v plus -v is -vv
        String vv = cmds.lspci(true, false, false, false, false, false, false, false, "02:08.0", "", "-v");
        assertThat(vv).contains("\t\tACSCtl:\tSrcValid+ TransBlk- ReqRedir+ CmpltRedir+");
    }

    @Test
    void lspciCommandShowsBridgeWindowsFromTheSnapshot() {
        assertThat(cmds.lspci(List.of("-v", "-s", "00:01.0")))
                .contains("\tPrefetchable memory behind bridge: 0000380000000000-00003810ffffffff [size=68G] [64-bit]");
    }

    @Test
    void acsShowAndWrite() {
        assertThat(cmds.acs("02:08.0")).isEqualTo(""
                + "0000:02:08.0 Capabilities: [148] Access Control Services\n"
                + "\t\tACSCap:\tSrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl+ DirectTrans+\n"
                + "\t\tACSCtl:\tSrcValid+ TransBlk- ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-");
        assertThat(cmds.acs("02:08.0", "-RR", "-CR", "+EC")).isEqualTo(
                "0000:02:08.0 ACSCtl:\tSrcValid+ TransBlk- ReqRedir- CmpltRedir- UpstreamFwd+ EgressCtrl+ DirectTrans-");
        assertThat(core.get(Bdf.parse("02:08.0")).acsCtrl()).isEqualTo(Acs.SV | Acs.UF | Acs.EC);
        assertThat(cmds.acs("0000:02:08.0", "0x1d")).isEqualTo(
                "0000:02:08.0 ACSCtl:\tSrcValid+ TransBlk- ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-");
        assertThat(cmds.acs("02:08.0", "0", "+ReqRedir")).isEqualTo(
                "0000:02:08.0 ACSCtl:\tSrcValid- TransBlk- ReqRedir+ CmpltRedir- UpstreamFwd- EgressCtrl- DirectTrans-");
        assertThat(core.get(Bdf.parse("02:08.0")).acsCtrl()).isEqualTo(Acs.RR);
        // the root port's ACSCap has no EgressCtrl: the bit reads back as 0
        assertThat(cmds.acs("00:01.0", "+EC", "+RR")).isEqualTo(""
                + "0000:00:01.0 ACSCtl:\tSrcValid- TransBlk- ReqRedir+ CmpltRedir- UpstreamFwd- EgressCtrl- DirectTrans-\n"
                + "# not implemented by ACSCap, read back as 0: EC");
    }

    @Test
    void acsOnDevicesWithoutAcs() {
        assertThat(cmds.acs("01:00.0")).isEqualTo("0000:01:00.0: no ACS capability");
        assertThat(cmds.acs("80:05.0")).isEqualTo(
                "0000:80:05.0: ACS unknown: the dump did not show this device's extended capabilities");
        KernelException ex = kex(() -> cmds.acs("01:00.0", "+RR"));
        assertThat(ex.errno()).isEqualTo(Errno.EINVAL);
        assertThat(ex.getMessage()).contains("0000:01:00.0 has no ACS capability");
    }

    @Test
    void badArgumentsGiveKernelErrorsNotCrashes() {
        KernelException bdf = kex(() -> cmds.acs("00:1g.0"));
        assertThat(bdf.errno()).isEqualTo(Errno.EINVAL);
        assertThat(bdf.getMessage()).isEqualTo(
                "EINVAL: '00:1g.0' is not a PCI address ([domain:]bus:device.function, hex)");
        KernelException bit = kex(() -> cmds.acs("02:08.0", "+XX"));
        assertThat(bit.getMessage()).startsWith("EINVAL: unknown ACS bit 'XX'");
        assertThat(kex(() -> cmds.acs("02:08.0", "zz")).getMessage())
                .startsWith("EINVAL: 'zz' is neither an ACS control value");
        assertThat(kex(() -> cmds.acs("02:08.0", "+RR", "1d")).getMessage())
                .startsWith("EINVAL: '1d': give at most one value");
        assertThat(kex(() -> cmds.acs("02:08.0", "12345")).getMessage())
                .contains("does not fit the 16-bit register");
        KernelException nodev = kex(() -> cmds.acs("00:1f.0"));
        assertThat(nodev.errno()).isEqualTo(Errno.ENODEV);
        assertThat(nodev.getMessage()).isEqualTo("ENODEV: no PCI device 0000:00:1f.0 in machine 'small'");
        assertThat(kex(() -> cmds.remove("05:00.0")).getMessage()).startsWith("ENODEV: no PCI device 0000:05:00.0");
        assertThat(kex(() -> cmds.remove(null)).errno()).isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> cmds.lspci(List.of("-s", "zz:00.0"))).getMessage())
                .isEqualTo("EINVAL: lspci -s 'zz:00.0': Invalid bus number");
        // the core is unchanged by the failed writes
        assertThat(core.get(Bdf.parse("02:08.0")).acsCtrl()).isEqualTo(Acs.SV | Acs.RR | Acs.CR | Acs.UF);
    }

    @Test
    void unplugIsPermanentAndHotplugAddsNewCards(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assertThat(cmds.unplug("04:00.0")).isEqualTo("unplugged 1 device(s): 0000:04:00.0");
        assertThat(cmds.rescan()).isEqualTo("rescan: no new devices");
        Path card = java.nio.file.Files.writeString(dir.resolve("card.yaml"), "new card");
        cmds.io = new FakeIO() {
            @Override
            public MachineDTO read(Path source, String format) {
                MachineDTO m = new MachineDTO();
                org.peerdma.pci.dto.DeviceDTO d = new org.peerdma.pci.dto.DeviceDTO();
                d.bdf = "0000:04:00.0";
                d.vendor = 0x144d;
                d.device = 0xa80a;
                m.devices.add(d);
                return m;
            }
        };
        assertThat(cmds.hotplug(null, TopologyIO.AUTO, card.toString())).isEqualTo("hot-added 1 device(s): 0000:04:00.0");
        assertThat(core.get(Bdf.parse("04:00.0")).vendor()).isEqualTo(0x144d);
        KernelException again = kex(() -> cmds.hotplug(null, TopologyIO.AUTO, card.toString()));
        assertThat(again.errno()).isEqualTo(Errno.EEXIST);
        KernelException missing = kex(() -> cmds.hotplug(null, TopologyIO.AUTO, dir.resolve("nope.yaml").toString()));
        assertThat(missing.errno()).isEqualTo(Errno.ENOENT);
    }

    @Test
    void removeRescanReboot() {
        assertThat(cmds.remove("01:00.0")).isEqualTo(
                "removed 5 device(s): 0000:03:00.0 0000:04:00.0 0000:02:08.0 0000:02:10.0 0000:01:00.0");
        assertThat(cmds.lspci(List.of("-t"))).startsWith("-+-[0000:00]-+-00.0\n |           \\-01.0-[01-04]--\n");
        assertThat(cmds.rescan()).isEqualTo("rescan added 5 device(s): 0000:01:00.0 0000:02:08.0 0000:02:10.0 "
                + "0000:03:00.0 0000:04:00.0");
        assertThat(cmds.rescan()).isEqualTo("rescan: no new devices");
        cmds.acs("02:08.0", "0");
        assertThat(cmds.reboot()).isEqualTo(
                "rebooted 'small' from test: 10 devices, 2 host bridges, 1 machine notes, 0 device notes");
        assertThat(core.get(Bdf.parse("02:08.0")).acsCtrl()).isEqualTo(Acs.SV | Acs.RR | Acs.CR | Acs.UF);
    }

    @Test
    void cmdlineAndRefs() {
        PciCore c = ShellTestCores.core("disable_acs_redir=02:08.0");
        c.load(Machines.small());
        cmds.core = c;
        assertThat(cmds.cmdline().lines()).first().isEqualTo("pci=disable_acs_redir=02:08.0");
        assertThat(cmds.cmdline()).contains("0000:02:08.0: Configured ACS to 0x0011")
                .contains("pci_enable_acs: rules of the newest kernel");
        assertThat(cmds.refs()).isEqualTo("no device references held");
        try (PciDeviceRef r = c.acquire(Bdf.parse("03:00.0"), "nvidia")) {
            assertThat(cmds.refs()).isEqualTo("nvidia -> 0000:03:00.0");
        }
        assertThat(cmds.refs()).isEqualTo("no device references held");
    }

    @Test
    void loadAndSave(@TempDir Path dir) throws Exception {
        Path dump = Files.writeString(dir.resolve("b70.txt"), "-[0000:00]-+-00.0\n");
        assertThat(cmds.load(null, "lspci-tv", dump.toString())).isEqualTo(
                "loaded 'elided' from " + dump + ": 7 devices, 1 host bridges, 2 machine notes, 0 device notes");
        assertThat(fakeIo.calls).containsExactly("read b70.txt lspci-tv");
        assertThat(core.machine().name()).isEqualTo("elided");
        assertThat(cmds.load(null, TopologyIO.AUTO, "sample")).startsWith("loaded 'small' from test: 10 devices");
        KernelException host = kex(() -> cmds.load(null, TopologyIO.AUTO, "host"));
        assertThat(host.errno()).isEqualTo(Errno.ENOENT);
        KernelException missing = kex(() -> cmds.load(null, TopologyIO.AUTO, dir.resolve("nope.yaml").toString()));
        assertThat(missing.getMessage()).isEqualTo("ENOENT: no such file or directory: " + dir.resolve("nope.yaml"));
        assertThat(core.machine().name()).isEqualTo("small");

        assertThat(cmds.save(null, dir.resolve("t.json").toString())).isEqualTo(
                "saved 'small' (10 devices, 2 host bridges) to " + dir.resolve("t.json") + " as JSON");
        assertThat(fakeIo.calls).endsWith("write t.json 10");
        assertThat(kex(() -> cmds.save(null, dir.resolve("no/such/dir/t.yaml").toString())).errno())
                .isEqualTo(Errno.ENOENT);

        cmds.io = null;
        KernelException noIo = kex(() -> cmds.load(null, TopologyIO.AUTO, "sample"));
        assertThat(noIo.errno()).isEqualTo(Errno.ENODEV);
        assertThat(noIo.getMessage()).contains("TopologyIO");
    }

    @Test
    void gogoDispatchesTheAnnotatedCommands(@TempDir Path dir) throws Exception {
        ThreadIOImpl tio = new ThreadIOImpl();
        tio.start();
        CommandProcessorImpl proc = new CommandProcessorImpl(tio);
        try {
            proc.addCommand("pci", cmds);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            CommandSession s = proc.createSession(new ByteArrayInputStream(new byte[0]), out, out);
            assertThat((String) s.execute("pci:lspci -t")).startsWith("-+-[0000:00]-+-00.0\n");
            assertThat((String) s.execute("pci:lspci -tvnn")).endsWith("\\-05.0  Device [1d17:1003]");
            assertThat((String) s.execute("pci:lspci -vv -s 02:08.0"))
                    .contains("\t\tACSCtl:\tSrcValid+ TransBlk- ReqRedir+");
            assertThat((String) s.execute("pci:lspci -n -d 10de:")).isEqualTo("03:00.0 0302: 10de:1db6 (rev a1)");
            assertThat((String) s.execute("pci:acs 02:08.0 -RR -CR")).contains("ReqRedir- CmpltRedir-");
            assertThat((String) s.execute("pci:acs 02:08.0 0x1d")).contains("ReqRedir+ CmpltRedir+");
            Files.writeString(dir.resolve("m.txt"), "x\n");
            s.currentDir(dir);
            assertThat((String) s.execute("pci:load --format lspci-tv m.txt")).startsWith("loaded 'elided'");
            assertThat(fakeIo.calls).contains("read m.txt lspci-tv");
            assertThat((String) s.execute("pci:save out.yaml")).endsWith(dir.resolve("out.yaml") + " as YAML");
            assertThatThrownBy(() -> s.execute("pci:remove 00:1f.0")).isInstanceOf(KernelException.class)
                    .hasMessage("ENODEV: no PCI device 0000:00:1f.0 in machine 'elided'");
        } finally {
            proc.stop();
            tio.stop();
        }
    }
}
