package org.peerdma.draw;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.p2pdma.doctor.RuleSet;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;

/** Draws the PCI tree and the verdict matrix of a machine (the shell's p2p:draw, the one-shot draw). */
@ProviderType
public interface PciDrawing {
    /** The formats a picture can be written in. */
    List<String> FORMATS = List.of("svg", "png");

    /**
     * tree - the machine's PCI tree laid out left to right: host bridges, the ports below them and the endpoints;
     * with a pair, its path highlighted and the doctor's verdict and rule as the caption.
     *
     * @param provider with {@code client}: the pair to show, or null for none
     * @param all draw every function, not only the endpoints of interest (GPUs, NICs, drives, accelerators) and
     *        the bridges that lead to them
     * @param rules the rule set for the verdict, or null for the doctor's choice
     * @param format "svg" or "png"
     * Errors: EINVAL for an unknown format or half a pair; E2BIG when a PNG would be too large (use SVG).
     */
    Picture tree(PciMachine machine, PciDevice provider, PciDevice client, boolean all, RuleSet rules, String format);

    /**
     * matrix - the verdict of every ordered pair of {@code devices} as a heatmap: the cell's colour is the
     * kernel's map type, its text nvidia-smi's path class.
     * Errors: EINVAL for an unknown format or fewer than two devices; E2BIG for more than {@link #MAX_MATRIX}.
     */
    Picture matrix(PciMachine machine, List<PciDevice> devices, RuleSet rules, String format);

    /**
     * draw - what the draw commands (the shell's p2p:draw, the one-shot draw) ask for: the tree, with
     * {@code bdfs} empty or a pair, or with {@code matrix} the heatmap of {@code bdfs} (default: every endpoint),
     * narrowed to {@code kinds} (comma-separated: gpu, nic, nvme, storage, accelerator, bridge, other, unknown).
     * Errors: EINVAL for a wrong number of devices, an unknown kind, kinds without the matrix, a bad address;
     *         ENODEV for a device not in the machine; as {@link #tree} and {@link #matrix}.
     */
    Picture draw(PciMachine machine, List<String> bdfs, boolean matrix, boolean all, String kinds, RuleSet rules,
            String format);

    /** The most devices a heatmap draws (a cell each pair: 65,536 cells). */
    int MAX_MATRIX = 256;

    /**
     * A picture.
     *
     * @param format "svg" or "png"
     * @param bytes the file's content
     * @param width width in pixels
     * @param height height in pixels
     * @param caption the verdict line of a pair, or the picture's title
     * @param drawn how many devices are drawn
     * @param notes what the picture leaves out or rests on (hidden functions, assumptions)
     */
    record Picture(String format, byte[] bytes, int width, int height, String caption, int drawn, List<String> notes) {
        /**
         * save - write the picture to {@code file}, replacing it.
         * Errors: ENOENT when its directory does not exist, EACCES when it may not be written, EISDIR for a
         *         directory, EIO otherwise.
         */
        public void save(java.nio.file.Path file) {
            try {
                java.nio.file.Files.write(file, bytes);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new org.peerdma.errno.KernelException(org.peerdma.errno.Errno.ENOENT, file
                        + ": no such directory to write the picture in");
            } catch (java.nio.file.AccessDeniedException e) {
                throw new org.peerdma.errno.KernelException(org.peerdma.errno.Errno.EACCES, file + ": permission denied");
            } catch (java.io.IOException e) {
                boolean dir = java.nio.file.Files.isDirectory(file);
                throw new org.peerdma.errno.KernelException(dir ? org.peerdma.errno.Errno.EISDIR
                        : org.peerdma.errno.Errno.EIO, file + (dir ? ": is a directory" : ": " + e.getMessage()));
            }
        }

        /** A line for the user: what was written and what the picture says. */
        public String summary(String where) {
            StringBuilder sb = new StringBuilder("wrote ").append(where).append(": ").append(format).append(", ")
                    .append(width).append(" x ").append(height).append(" pixels, ").append(drawn)
                    .append(" devices; ").append(caption);
            for (String n : notes) {
                sb.append('\n').append(n);
            }
            return sb.toString();
        }
    }

    /**
     * formatOf - the format a file name asks for: its extension, "svg" or "png".
     * Errors: EINVAL for any other name.
     */
    static String formatOf(String file) {
        String f = file == null ? "" : file.strip().toLowerCase(java.util.Locale.ROOT);
        for (String x : FORMATS) {
            if (f.endsWith("." + x)) {
                return x;
            }
        }
        throw org.peerdma.errno.KernelException.einval("'%s': the picture's file name ends in .svg or .png",
                org.peerdma.util.Texts.clip(String.valueOf(file)));
    }
}
