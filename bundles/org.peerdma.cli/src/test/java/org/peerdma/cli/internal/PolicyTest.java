package org.peerdma.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.doctor.MachineAudit;
import org.peerdma.p2pdma.doctor.MachineAudit.AuditPair;
import org.peerdma.p2pdma.doctor.MachineInfo;
import org.peerdma.p2pdma.doctor.RuleSet;

/** An audit policy: what breaks it, and what the inputs cannot settle. */
class PolicyTest {
    @TempDir
    Path tmp;

    private Policy policy() throws Exception {
        Path f = tmp.resolve("p.yaml");
        Files.writeString(f, "rules:\n  - name: gpu-nic-bus\n    pair: [gpu, nic]\n    where: same-switch\n"
                + "    expect: [BUS_ADDR]\n");
        return Policy.read(f.toString());
    }

    private static MachineAudit audit(List<AuditPair> pairs, List<String> unknown) {
        return new MachineAudit(new MachineInfo("m1", "m1.txt", "x86_64", "?", 4, 1, List.of()),
                new RuleSet("NEWEST", "newest", "newest (v7.x)", null, "test"), Map.of(), Map.of(), List.of(), "",
                Map.of(), pairs, 0, unknown, List.of());
    }

    private static AuditPair pair(String type, String ifRedirect) {
        return new AuditPair("0000:03:00.0", "gpu", "0000:05:00.0", "nic", type, 4, "PIX", "common-upstream", "",
                true, ifRedirect);
    }

    @Test
    void aPairThatMeetsTheRuleOnlyAsDescribedIsUndetermined() throws Exception {
        Policy p = policy();
        MachineAudit a = audit(List.of(pair("BUS_ADDR", "THRU_HOST_BRIDGE")), List.of());
        assertThat(p.check(a)).isEmpty();
        assertThat(p.undetermined(a)).singleElement().satisfies(u -> {
            assertThat(u.rule()).isEqualTo("gpu-nic-bus");
            assertThat(u.ifAcsRedirect()).isEqualTo("THRU_HOST_BRIDGE");
            assertThat(u.reason()).contains("lacks the ACS state");
        });
        // settled by the dump: nothing undetermined
        assertThat(p.undetermined(audit(List.of(pair("BUS_ADDR", null)), List.of()))).isEmpty();
        // broken as described: a violation, not an open question
        MachineAudit broken = audit(List.of(pair("THRU_HOST_BRIDGE", null)), List.of());
        assertThat(p.check(broken)).hasSize(1);
        assertThat(p.undetermined(broken)).isEmpty();
    }

    @Test
    void endpointsOfUnknownKindLeaveTheRuleOpen() throws Exception {
        List<Policy.Undetermined> u = policy().undetermined(audit(List.of(), List.of("0000:41:00.0")));
        assertThat(u).singleElement().satisfies(x -> assertThat(x.reason()).contains("1 endpoint(s) of unknown kind")
                .contains("gpu or nic"));
    }

    @Test
    void aBinaryOrDirectoryPolicyIsRefusedByName() throws Exception {
        Path bin = tmp.resolve("bin.yaml");
        Files.write(bin, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2});
        assertThatThrownBy(() -> Policy.read(bin.toString())).isInstanceOf(Errors.DataException.class)
                .hasMessageContaining("not UTF-8 text");
        assertThatThrownBy(() -> Policy.read(tmp.toString())).isInstanceOf(KernelException.class)
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.EISDIR));
        assertThat(Errors.status(new KernelException(Errno.EISDIR, "x"))).isEqualTo(66);
    }
}
