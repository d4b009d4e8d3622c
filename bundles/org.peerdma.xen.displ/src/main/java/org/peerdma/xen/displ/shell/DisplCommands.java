package org.peerdma.xen.displ.shell;

import java.nio.file.Path;
import java.util.Locale;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.errno.KernelException;
import org.peerdma.xen.displ.DisplBack;
import org.peerdma.xen.displ.DisplFront;

/** The PV display pair from a domain's shell: connect/render in a guest, attach/png in dom0. */
@Component(service = DisplCommands.class, property = {"osgi.command.scope=displ", "osgi.command.function=connect",
    "osgi.command.function=render", "osgi.command.function=disconnect", "osgi.command.function=attach",
    "osgi.command.function=status", "osgi.command.function=png", "osgi.command.function=detach"})
public class DisplCommands {
    @Reference
    DisplFront front;
    @Reference
    DisplBack back;

    @Descriptor("frontend: allocate and share a WxH XRGB8888 framebuffer with the backend domain (default dom0)")
    public String connect(@Descriptor("width") int w, @Descriptor("height") int h,
            @Descriptor("backend domid (default 0)") int... backend) {
        front.connect(backend.length > 0 ? backend[0] : 0, w, h);
        return String.format(Locale.ROOT, "display %dx%d published for d%d", w, h, backend.length > 0 ? backend[0] : 0);
    }

    @Descriptor("frontend: render frames FIRST..FIRST+COUNT-1 into the shared pages, notifying the backend each time")
    public String render(@Descriptor("first frame number") int first, @Descriptor("count (default 1)") int... count) {
        int n = count.length > 0 ? count[0] : 1;
        if (n < 1) {
            throw KernelException.einval("count %d", n);
        }
        for (int i = 0; i < n; i++) {
            front.render(first + i);
        }
        return n + " frame(s) rendered, last " + (first + n - 1);
    }

    @Descriptor("frontend: close the display")
    public String disconnect() {
        front.disconnect();
        return "display closed";
    }

    @Descriptor("backend: import a frontend's framebuffer (page directory -> EXP_FROM_REFS, no copy)")
    public String attach(@Descriptor("frontend domid") int domid) {
        return line(back.attach(domid));
    }

    @Descriptor("backend: the attached displays")
    public String status() {
        StringBuilder sb = new StringBuilder();
        back.list().forEach(s -> sb.append(line(s)).append(System.lineSeparator()));
        return sb.length() == 0 ? "no displays attached" : sb.toString().stripTrailing();
    }

    @Descriptor("backend: write the current frame of a frontend as a PNG file")
    public String png(@Descriptor("frontend domid") int domid, @Descriptor("file") String file) {
        Path p = Path.of(file).toAbsolutePath();
        back.writePng(domid, p);
        return "frame " + back.status(domid).frame() + " of d" + domid + " written to " + p;
    }

    @Descriptor("backend: release a frontend's framebuffer")
    public String detach(@Descriptor("frontend domid") int domid) {
        back.detach(domid);
        return "display of d" + domid + " detached";
    }

    private static String line(DisplBack.Status s) {
        return String.format(Locale.ROOT, "d%d: %dx%d, frame %d, %d event(s)%s", s.domid(), s.width(), s.height(),
                s.frame(), s.events(), s.lost() ? ", LOST: " + s.why() : "");
    }
}
