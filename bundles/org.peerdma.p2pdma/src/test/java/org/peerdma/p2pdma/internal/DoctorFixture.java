package org.peerdma.p2pdma.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.peerdma.mm.internal.TestZone;
import org.peerdma.p2pdma.doctor.CheckReport;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.imports.internal.TestIo;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.testkit.Schemas;

/** The doctor outside OSGi, wired as DS would wire it, with the importers and the real dumps. */
final class DoctorFixture {
    static final Path REAL = TestIo.shared().resolve("topologies/real");
    final TopologyIO io = TestIo.io();
    final PciCoreImpl core = new PciCoreImpl();
    final DoctorImpl doctor = DoctorImpl.standalone(core, P2pdmaImpl.standalone(core, TestZone.zone(), null,
            "newest", 0));

    /** A real dump of shared/topologies/real, loaded. */
    PciMachine real(String file) {
        return core.load(io.read(REAL.resolve(file), TopologyIO.AUTO));
    }

    /** check - the doctor's report for the pair, its JSON checked against the schema. */
    CheckReport check(PciMachine m, String p, String c) {
        CheckReport r = doctor.check(m, core.get(Bdf.parse(p)), core.get(Bdf.parse(c)), null);
        assertThat(Schemas.problems(doctor.json(r))).isEmpty();
        return r;
    }
}
