package org.peerdma.arch.arm64.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.peerdma.pci.PciMachine;

class Arm64PolicyTest {
    @Test
    void arm64HasNoCpuRuleAndNoWhitelistRowByDefault() {
        PciMachine m = Arm64Fixtures.machine();
        Arm64Policy p = new Arm64Policy();
        p.configure(Arm64Fixtures.policyConfig(false));
        assertThat(p.arch()).isEqualTo("arm64");
        // the fixture's CPU claims AMD family 0x19, which passes the x86 rule; arm64 never has it
        assertThat(m.cpu().isAmd()).isTrue();
        assertThat(p.cpuSupportsP2pdma(m)).isFalse();
        assertThat(p.cpuSupportsP2pdma(null)).isFalse();
        assertThat(p.hostBridgeWhitelist()).isFalse();
    }

    @Test
    void aWhitelistedPlatformIsAParameter() {
        Arm64Policy p = new Arm64Policy();
        p.configure(Arm64Fixtures.policyConfig(true));
        assertThat(p.hostBridgeWhitelist()).isTrue();
        assertThat(p.cpuSupportsP2pdma(Arm64Fixtures.machine())).isFalse();
        p.configure(Arm64Fixtures.policyConfig(false));
        assertThat(p.hostBridgeWhitelist()).isFalse();
    }
}
