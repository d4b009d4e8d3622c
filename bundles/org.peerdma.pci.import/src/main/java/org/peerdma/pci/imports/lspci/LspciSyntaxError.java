package org.peerdma.pci.imports.lspci;

/**
 * A line of an lspci listing that cannot be read. Thrown by the line parsers of this package,
 * which do not know the file or line number; {@link LspciVerboseParser} turns it into a
 * {@link org.peerdma.pci.TopologyFormatException} naming both.
 */
final class LspciSyntaxError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    LspciSyntaxError(String message) {
        super(message);
    }

    static LspciSyntaxError of(String fmt, Object... args) {
        return new LspciSyntaxError(String.format(fmt, org.peerdma.errno.KernelException.clipped(args)));
    }
}
