package org.peerdma.cli.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.peerdma.p2pdma.doctor.MachineAudit;
import org.peerdma.util.Texts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * An audit policy (docs/cli.md): rules over the pairs between GPUs, NICs, NVMe devices and
 * accelerators, each naming the map types a pair of those kinds must get.
 *
 * <pre>
 * rules:
 *   - name: gpu-nic-same-switch
 *     pair: [gpu, nic]          # provider and client kinds, both directions
 *     where: same-switch        # same-switch (default any): only pairs below one PCIe switch
 *     expect: [BUS_ADDR]        # map types, or "supported"
 * </pre>
 */
final class Policy {
    private static final Set<String> KINDS = Set.of("gpu", "nic", "nvme", "accelerator");
    private static final Set<String> WHERE = Set.of("any", "same-switch", "same-host-bridge", "other-switch");
    private static final Set<String> TYPES = Set.of("BUS_ADDR", "THRU_HOST_BRIDGE", "NOT_SUPPORTED");

    record Rule(String name, List<String> pair, String where, List<String> expect) {
        @JsonCreator
        Rule(@JsonProperty("name") String name, @JsonProperty("pair") List<String> pair,
                @JsonProperty("where") String where, @JsonProperty("expect") List<String> expect) {
            this.name = name;
            this.pair = pair;
            this.where = where == null ? "any" : where;
            this.expect = expect;
        }
    }

    record File(@JsonProperty("rules") List<Rule> rules) {
    }

    /** A pair that breaks a rule. */
    record Violation(String machine, String source, String rule, String provider, String providerKind, String client,
            String clientKind, String mapType, String ruleId, String redirecting, String expected, String fix) {
    }

    /**
     * A rule the description cannot settle for a machine: a pair that meets it as described but would break it
     * if ports whose ACS state the dump lacks redirect, or endpoints of unknown kind the rule may be about.
     */
    record Undetermined(String machine, String source, String rule, String provider, String client, String mapType,
            String ifAcsRedirect, String reason) {
    }

    final String source;
    final List<Rule> rules;

    private Policy(String source, List<Rule> rules) {
        this.source = source;
        this.rules = rules;
    }

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY);

    /**
     * read - a policy file.
     * Errors: ENOENT (exit 66) when missing; EINVAL naming the file and line (exit 65) when malformed.
     */
    static Policy read(String file) {
        String text = Ctx.readText(file, "a policy file", 1 << 20);
        File f;
        try {
            f = YAML.readValue(text, File.class);
        } catch (com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException ex) {
            String key = ex.getPropertyName();
            throw new Errors.DataException(file + lineOf(text, key) + ": unknown key '" + Texts.clip(key) + "' (a rule has "
                    + "name, pair, where, expect; the file has rules)");
        } catch (JsonProcessingException ex) {
            int line = ex.getLocation() == null ? 0 : ex.getLocation().getLineNr();
            throw new Errors.DataException(file + (line > 0 ? ":" + line : "") + ": " + Texts.clip(ex.getOriginalMessage()));
        }
        if (f == null || f.rules() == null || f.rules().isEmpty()) {
            throw new Errors.DataException(file + ": the policy has no rules");
        }
        List<Rule> rules = new ArrayList<>();
        for (Rule r : f.rules()) {
            if (r == null) {
                throw new Errors.DataException(file + ": an empty rule");
            }
            String n = r.name();
            if (n == null || n.isBlank()) {
                throw new Errors.DataException(file + ": a rule without a name");
            }
            if (r.expect() == null || r.expect().isEmpty()) {
                throw new Errors.DataException(file + ": rule " + Texts.clip(n) + ": no expect (the map types its pairs "
                        + "must get)");
            }
            if (r.pair() == null || r.pair().size() != 2 || !r.pair().stream().allMatch(KINDS::contains)) {
                throw new Errors.DataException(file + ": rule " + Texts.clip(n) + ": pair must name two kinds of "
                        + KINDS.stream().sorted().toList());
            }
            if (!WHERE.contains(r.where())) {
                throw new Errors.DataException(file + ": rule " + Texts.clip(n) + ": where must be one of "
                        + WHERE.stream().sorted().toList());
            }
            List<String> expect = new ArrayList<>();
            for (String e : r.expect()) {
                String u = e == null ? "" : e.strip().toUpperCase(Locale.ROOT);
                if (u.equals("SUPPORTED")) {
                    expect.add("BUS_ADDR");
                    expect.add("THRU_HOST_BRIDGE");
                } else if (TYPES.contains(u)) {
                    expect.add(u);
                } else {
                    throw new Errors.DataException(file + ": rule " + Texts.clip(n) + ": expect " + Texts.clip(e)
                            + " is not BUS_ADDR, THRU_HOST_BRIDGE, NOT_SUPPORTED or supported");
                }
            }
            rules.add(new Rule(n, r.pair(), r.where(), List.copyOf(expect)));
        }
        return new Policy(file, rules);
    }

    /** ":N" for the first line where {@code key} is written as a YAML key, or "". */
    private static String lineOf(String text, String key) {
        String[] lines = text.split("\n", -1);
        java.util.regex.Pattern p = java.util.regex.Pattern.compile("^[\\s-]*\"?" + java.util.regex.Pattern.quote(key)
                + "\"?\\s*:");
        for (int i = 0; i < lines.length; i++) {
            if (p.matcher(lines[i]).find()) {
                return ":" + (i + 1);
            }
        }
        return "";
    }

    /** check - the pairs of one machine that break a rule. */
    List<Violation> check(MachineAudit a) {
        List<Violation> out = new ArrayList<>();
        for (Rule r : rules) {
            for (MachineAudit.AuditPair p : a.devicePairs()) {
                boolean kinds = (p.providerKind().equals(r.pair().get(0)) && p.clientKind().equals(r.pair().get(1)))
                        || (p.providerKind().equals(r.pair().get(1)) && p.clientKind().equals(r.pair().get(0)));
                if (!kinds || !where(r.where(), p) || r.expect().contains(p.mapType())) {
                    continue;
                }
                out.add(new Violation(a.machine().name(), a.machine().source(), r.name(), p.provider(), p.providerKind(),
                        p.client(), p.clientKind(), p.mapType(), p.ruleId(), p.redirecting(),
                        String.join("|", r.expect()), p.redirecting().isEmpty() ? ""
                                : "pci=disable_acs_redir=" + p.redirecting()));
            }
        }
        return out;
    }

    /** undetermined - what the policy cannot judge on one machine (see {@link Undetermined}). */
    List<Undetermined> undetermined(MachineAudit a) {
        List<Undetermined> out = new ArrayList<>();
        for (Rule r : rules) {
            for (MachineAudit.AuditPair p : a.devicePairs()) {
                boolean kinds = (p.providerKind().equals(r.pair().get(0)) && p.clientKind().equals(r.pair().get(1)))
                        || (p.providerKind().equals(r.pair().get(1)) && p.clientKind().equals(r.pair().get(0)));
                if (!kinds || !where(r.where(), p) || !r.expect().contains(p.mapType()) || p.ifAcsRedirect() == null
                        || r.expect().contains(p.ifAcsRedirect())) {
                    continue;
                }
                out.add(new Undetermined(a.machine().name(), a.machine().source(), r.name(), p.provider(), p.client(),
                        p.mapType(), p.ifAcsRedirect(), "the dump lacks the ACS state of ports on the path: "
                                + p.ifAcsRedirect() + " if they redirect"));
            }
            if (!a.unknownKinds().isEmpty()) {
                out.add(new Undetermined(a.machine().name(), a.machine().source(), r.name(), null, null, null, null,
                        a.unknownKinds().size() + " endpoint(s) of unknown kind (e.g. " + a.unknownKinds().get(0)
                                + ") may be " + String.join(" or ", r.pair().stream().distinct().toList())
                                + " devices: lspci -nn or -vvv output has their class codes"));
            }
        }
        return out;
    }

    private static boolean where(String where, MachineAudit.AuditPair p) {
        return switch (where) {
            case "same-switch" -> p.sameSwitch();
            case "other-switch" -> !p.sameSwitch();
            case "same-host-bridge" -> !p.nvidiaSmiClass().startsWith("NODE") && !p.nvidiaSmiClass().equals("SYS");
            default -> true;
        };
    }
}
