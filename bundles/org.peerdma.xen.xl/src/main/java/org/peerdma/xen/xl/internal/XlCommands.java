package org.peerdma.xen.xl.internal;

import java.util.List;
import java.util.Locale;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.xen.hv.DomainInfo;
import org.peerdma.xen.xl.Toolstack;

/** xl from dom0's shell. */
@Component(service = XlCommands.class, property = {"osgi.command.scope=xl", "osgi.command.function=list",
    "osgi.command.function=create", "osgi.command.function=destroy", "osgi.command.function=crash",
    "osgi.command.function=pause", "osgi.command.function=unpause", "osgi.command.function=exec",
    "osgi.command.function=kernel"})
public class XlCommands {
    @Reference
    Toolstack xl;

    @Descriptor("xl list: every domain with its memory, state and grant-table frames")
    public String list() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-20s %5s %8s %-8s %6s %s%n", "Name", "ID",
                "Mem(MiB)", "State", "Frames", "Framework"));
        var guests = xl.guests();
        for (DomainInfo d : xl.list()) {
            String fw = d.domid() == 0 ? "dom0 (this shell)" : guests.containsKey(d.domid()) ? "own framework" : "-";
            sb.append(String.format(Locale.ROOT, "%-20s %5d %8d %-8s %6d %s%n", d.name(), d.domid(),
                    d.pages() * 4096 >> 20, d.state().name().toLowerCase(Locale.ROOT), d.framesHeld(), fw));
        }
        return sb.toString().stripTrailing();
    }

    @Descriptor("xl create: a guest domain running its own framework; [CONFIG-FILE] [KEY=VALUE ...]: name, memory (MiB), maxgrantframes, kernel, bundles")
    public String create(@Descriptor("[file] KEY=VALUE ...") String... keyValues) {
        DomainInfo d = xl.create(ToolstackImpl.parse(List.of(keyValues)));
        return String.format(Locale.ROOT, "domain %s created: id %d, %d MiB", d.name(), d.domid(), d.pages() * 4096 >> 20);
    }

    @Descriptor("xl destroy: stop the guest's kernel, then destroy the domain")
    public String destroy(@Descriptor("name or id") String domain) {
        xl.destroy(domain);
        return "domain " + domain + " destroyed";
    }

    @Descriptor("crash a domain: no clean shutdown (the hypervisor kills it, then its framework goes)")
    public String crash(@Descriptor("name or id") String domain) {
        xl.crash(domain);
        return "domain " + domain + " crashed";
    }

    @Descriptor("xl pause: the domain's vCPUs stop; its hypercalls wait and its events queue")
    public String pause(@Descriptor("name or id") String domain) {
        xl.pause(domain);
        return "domain " + domain + " paused";
    }

    @Descriptor("xl unpause")
    public String unpause(@Descriptor("name or id") String domain) {
        xl.unpause(domain);
        return "domain " + domain + " unpaused";
    }

    @Descriptor("run one Gogo command in a domain's own shell, e.g. exec guest1 \"kmod:lsmod\"")
    public String exec(@Descriptor("name or id") String domain, @Descriptor("command") String... command) {
        return xl.exec(domain, String.join(" ", command));
    }

    @Descriptor("the bundles of a kernel list (what create kernel=NAME installs)")
    public String kernel(@Descriptor("list name, e.g. guest") String name) {
        return String.join(System.lineSeparator(), xl.kernel(name));
    }
}
