package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;

/** The P2P doctor on the sample machine, through the shell. */
@ExtendWith(ServiceExtension.class)
class P2pDoctorTest {
    @InjectService(timeout = 5000)
    CommandProcessor processor;

    @InjectService(timeout = 5000)
    PciCore core;

    @Test
    void theTwoDesignsSideBySide() throws Exception {
        Shell sh = new Shell(processor);
        Runtime.eventually("sample booted", 5000, () -> core.machine().devices().size() == 22);
        // the NoLoad's CMB (06:00.0 BAR 2) as an RFC p2pmem device, its 64 MiB rest as a p2pdma provider elsewhere
        assertThat(sh.run("p2pmem:probe 06:00.0 2")).contains("p2pmem0: registered");
        assertThat(sh.run("p2pmem:ls")).contains("p2pmem0 -> ../../devices/0000:06:00.0/p2pmem0");
        // the same BAR cannot also be a p2pdma provider: ZONE_DEVICE refuses the second mapping
        assertThatThrownBy(() -> sh.run("p2p:addres 06:00.0 2")).hasMessageContaining("Conflicting mapping");
        sh.run("p2p:addres 04:00.0 3");
        sh.run("p2p:publish 04:00.0");
        // a client below the same switch: both designs answer
        assertThat(sh.run("p2pmem:compare 05:00.0")).contains("2017 RFC (same switch only, first match): p2pmem0")
                .contains("merged p2pdma").contains("0000:04:00.0");
        // a client on another root port: the RFC refuses, p2pdma goes through the whitelisted host bridge
        String far = sh.run("p2pmem:compare 81:00.0");
        assertThat(far).contains("2017 RFC (same switch only, first match): none").contains("0000:04:00.0 (distance");
        assertThat(sh.run("p2pmem:find 81:00.0")).contains("is not a pci device behind a switch");
        sh.run("p2pmem:unregister p2pmem0");
        sh.run("p2p:release 04:00.0");
        assertThat(sh.run("p2pmem:ls")).contains("empty");
    }

    @Test
    void checkExplainsTheVerdictAndWhatifLeavesTheMachineAlone() throws Exception {
        Shell sh = new Shell(processor);
        Runtime.eventually("sample booted", 5000, () -> core.machine().devices().size() == 22);
        // GPU 03:00.0 and NIC 05:00.0 sit below the same PEX 8747; 02:08.0 redirects, Skylake-E is whitelisted
        String out = sh.run("p2p:check 03:00.0 05:00.0");
        assertThat(out).contains("P2P SUPPORTED: PCI_P2PDMA_MAP_THRU_HOST_BRIDGE, distance 4")
                .contains("redirecting: 0000:02:08.0").contains("pci=disable_acs_redir=0000:02:08.0")
                .contains("whitelisted: 8086:2020").contains("v4.20 NOT_SUPPORTED -2")
                // the planner's proof with the IOMMU module's groups: the port that stops redirecting stops isolating
                .contains("booted a copy with pci=disable_acs_redir=0000:02:08.0: BUS_ADDR, the fix works")
                .containsPattern("IOMMU groups \\d+ -> \\d+; the provider's group: .*0000:03:00\\.0");
        // NIC and NVMe on non-redirecting ports: bus address
        assertThat(sh.run("p2p:check 05:00.0 06:00.0")).contains("PCI_P2PDMA_MAP_BUS_ADDR, distance 4");
        String whatif = sh.run("p2p:whatif 03:00.0 05:00.0 acs:02:08.0=-RR,-CR");
        assertThat(whatif).contains("before: PCI_P2PDMA_MAP_THRU_HOST_BRIDGE distance 4")
                .contains("after:  PCI_P2PDMA_MAP_BUS_ADDR distance 4");
        assertThat(core.get(Bdf.parse("02:08.0")).acsCtrl() & Acs.RR).isNotZero();
        assertThat(sh.run("p2p:whatif 03:00.0 81:00.0 cpu=GenuineIntel/6 kernel=v4.20"))
                .contains("after:  PCI_P2PDMA_MAP_NOT_SUPPORTED distance -1 (v4.20)");
        // booting with the IOMMU on: the IOMMU module's groups of the rebooted copy, and the DMA addresses
        String io = sh.run("p2p:whatif 05:00.0 06:00.0 iommu=on");
        assertThat(io).contains("after:  PCI_P2PDMA_MAP_THRU_HOST_BRIDGE").containsPattern("IOMMU groups: \\d+ as "
                + "loaded, \\d+ after; provider's group 0000:05:00.0").contains("DMA addresses: IOVAs");
        assertThat(sh.run("p2p:whatif 05:00.0 06:00.0 iommu=pt")).contains("DMA addresses: the BAR's CPU physical");
        assertThat(sh.run("p2p:matrix")).contains("rows: provider").contains("BUS(4) PIX");
        assertThat(sh.run("p2p:matrix -p r -a")).contains("NUMA Affinity").contains("reads as nvidia-smi topo -p2p r");
        assertThat(sh.run("p2p:matrix -t nic,nvme")).doesNotContain("03:00.0").contains("05:00.0");
        // the IOMMU beside the verdict: groups from ACS, and what translation means for the pair
        String groups = sh.run("iommu:groups");
        assertThat(groups).contains("IOMMU mode: translated").contains("0000:03:00.0");
        assertThat(sh.run("iommu:p2p 03:00.0 05:00.0")).contains("THRU_HOST_BRIDGE").contains("IOVA");
        assertThat(sh.run("iommu:p2p 05:00.0 06:00.0")).contains("BUS_ADDR").contains("never reaches the IOMMU");
        // the DMA API: per-device ops override over the arch default, masks, a peer's BAR through the IOMMU
        assertThat(sh.run("dma:ops 05:00.0")).contains("0000:05:00.0: iommu");
        assertThat(sh.run("dma:ops 05:00.0 x86-direct")).contains("0000:05:00.0: x86-direct");
        assertThatThrownBy(() -> sh.run("dma:map 05:00.0 resource 0x38000000000 4096")).hasMessageContaining("EIO");
        assertThat(sh.run("dma:mask 05:00.0 64")).contains("0xffffffffffffffff");
        assertThat(sh.run("dma:map 05:00.0 resource 0x38000000000 4096")).contains("dma 0x38000000000 via x86-direct");
        assertThat(sh.run("dma:ops 05:00.0 default")).contains("0000:05:00.0: iommu");
        assertThat(sh.run("dma:map 05:00.0 resource 0x38000000000 4096")).contains("via iommu");
        assertThat(sh.run("dma:unmapall 05:00.0")).contains("unmapped 2");
        assertThatThrownBy(() -> sh.run("dma:ops 05:00.0 nope")).hasMessageContaining("no DMA ops named 'nope'");
        // the rule set is a module parameter writable at run time
        assertThat(sh.run("kmod:modparam p2pdma kernel_version=v4.20")).contains("set kernel_version=v4.20");
        Runtime.eventually("v4.20 rules", 5000, () -> {
            try {
                return sh.run("p2p:check 03:00.0 05:00.0").contains("distance -2");
            } catch (Exception ex) {
                return false;
            }
        });
        sh.run("kmod:modparam p2pdma kernel_version=newest");
        assertThatThrownBy(() -> sh.run("p2p:check 03:00.0 77:00.0")).isInstanceOf(KernelException.class)
                .hasMessageContaining("ENODEV");
        assertThatThrownBy(() -> sh.run("p2p:whatif 03:00.0 05:00.0 acs:03:00.0=0"))
                .hasMessageContaining("has no ACS capability");
    }
}
