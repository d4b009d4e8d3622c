package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.p2pdma.P2pdma;
import org.peerdma.p2pdma.doctor.P2pDoctor;
import org.peerdma.p2pdma.doctor.Verdict;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.MachineDTO;

/**
 * A what-if gives exactly the answer the real change gives: every kind of change (acs, redirect, cpu,
 * arch, kernel) asked as a what-if, then made for real (an ACS register write, the CPU of the loaded
 * machine, the arch module swapped, the kernel_version parameter), over pairs through a switch, across
 * root ports and across sockets.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class WhatIfAgreesTest {
    private static final List<String> SAMPLE = List.of("03:00.0", "04:00.0", "05:00.0", "06:00.0", "81:00.0");
    private List<String> devices = SAMPLE;

    @InjectBundleContext
    BundleContext ctx;

    @InjectService(timeout = 5000)
    CommandProcessor processor;

    @InjectService(timeout = 5000)
    PciCore core;

    @InjectService(timeout = 5000)
    TopologyIO io;

    @InjectService(timeout = 5000)
    P2pDoctor doctor;

    @InjectService(timeout = 5000)
    P2pdma p2pdma;

    @AfterEach
    void sampleAgain() throws Exception {
        Shell sh = new Shell(processor);
        sh.run("kmod:modparam p2pdma kernel_version=newest");
        Runtime.startAll(ctx);
        Runtime.eventually("x86 arch back", 5000, () -> p2pdma.arch().startsWith("x86"));
        core.load(io.sample());
    }

    /** The verdict the doctor gives on the machine as it is now, for each pair. */
    private Map<String, String> real() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String p : devices) {
            for (String c : devices) {
                if (!p.equals(c)) {
                    PciDevice pd = core.get(Bdf.parse(p));
                    PciDevice cd = core.get(Bdf.parse(c));
                    out.put(p + " -> " + c, show(doctor.check(core.machine(), pd, cd, null).verdict()));
                }
            }
        }
        return out;
    }

    private Map<String, String> whatIf(String change) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String p : devices) {
            for (String c : devices) {
                if (!p.equals(c)) {
                    out.put(p + " -> " + c, show(doctor.whatIf(p, c, List.of(change), null).after().verdict()));
                }
            }
        }
        return out;
    }

    private static String show(Verdict v) {
        return v.mapType() + " " + v.distance() + " " + v.ruleId();
    }

    private void agree(String change, ThrowingRunnable makeItReal) throws Exception {
        agree(io.sample(), change, makeItReal);
    }

    private void agree(MachineDTO machine, String change, ThrowingRunnable makeItReal) throws Exception {
        core.load(machine);
        Map<String, String> before = real();
        Map<String, String> predicted = whatIf(change);
        makeItReal.run();
        Map<String, String> after = real();
        assertThat(after).as("real answers after the change, against what-if " + change).isEqualTo(predicted);
        assertThat(after).as("the change " + change + " changes something on the sample").isNotEqualTo(before);
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void acsEdit() throws Exception {
        Shell sh = new Shell(processor);
        agree("acs:02:08.0=-RR,-CR", () -> sh.run("pci:acs 02:08.0 -RR -CR"));
    }

    @Test
    void redirectOff() throws Exception {
        Shell sh = new Shell(processor);
        agree("redirect=off", () -> {
            List<String> ports = new ArrayList<>();
            for (PciDevice d : core.machine().devices()) {
                if ((d.acsCtrl() & Acs.REDIRECT_BITS) != 0) {
                    ports.add(d.name());
                    sh.run("pci:acs " + d.name() + " -RR -CR -EC");
                }
            }
            assertThat(ports).as("redirecting ports on the sample").isNotEmpty();
        });
    }

    @Test
    void cpu() throws Exception {
        // the sample is a Skylake-SP whose host bridges are whitelisted whatever the CPU; on an AMD Genoa the
        // CPU rule is what lets traffic through the host bridges
        MachineDTO genoa = io.read(Runtime.realDumps(ctx).resolve("asus-esc8000a-e12-genoa.txt"), null);
        core.load(genoa);
        devices = doctor.endpoints(core.machine()).stream().map(PciDevice::name).limit(8).toList();
        for (String cpu : List.of("GenuineIntel/6", "AuthenticAMD/0x15", "HygonGenuine/0x18")) {
            agree(genoa, "cpu=" + cpu, () -> {
                MachineDTO dto = core.snapshot();
                dto.cpu = dto.cpu == null ? new org.peerdma.pci.dto.CpuDTO() : dto.cpu;
                dto.cpu.vendor = cpu.substring(0, cpu.indexOf('/'));
                dto.cpu.family = Integer.decode(cpu.substring(cpu.indexOf('/') + 1));
                core.load(dto);
            });
        }
    }

    @Test
    void arch() throws Exception {
        Shell sh = new Shell(processor);
        agree("arch=arm64", () -> {
            sh.run("kmod:rmmod -f arch_x86");
            Runtime.eventually("arm64 in force", 5000, () -> p2pdma.arch().equals("arm64"));
        });
    }

    @Test
    void kernel() throws Exception {
        Shell sh = new Shell(processor);
        agree("kernel=v4.20", () -> sh.run("kmod:modparam p2pdma kernel_version=v4.20"));
        agree("kernel=v5.2", () -> sh.run("kmod:modparam p2pdma kernel_version=v5.2"));
    }
}
