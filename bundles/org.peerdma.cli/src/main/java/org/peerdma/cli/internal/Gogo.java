package org.peerdma.cli.internal;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;

/**
 * A Gogo session as the command line uses it: the user's working directory, and a scope search
 * path so that an unscoped command runs the module the documentation means ({@code attach} is
 * dmabuf's, {@code find} p2pdma's, {@code load} the PCI core's), never whichever module happened
 * to register first.
 */
final class Gogo implements AutoCloseable {
    /**
     * Scopes in the order an unscoped name is looked up (Gogo's SCOPE variable): the P2P doctor and
     * PCI core first, then the other modules, then the framework's own commands.
     */
    static final String SCOPE = String.join(":", "pci", "p2p", "kmod", "dmabuf", "dma", "iommu", "p2pmem", "hmm",
            "xl", "xen", "gntdev", "displ", "hdmabuf", "cli", "gogo", "felix", "scr", "cm", "system", "context", "*");

    final CommandSession session;

    Gogo(CommandProcessor processor, InputStream in, PrintStream out, PrintStream err) {
        session = processor.createSession(in, out, new PrintStream(new WithoutPipeNoise(err), true));
        session.put("SCOPE", SCOPE);
        String cwd = System.getProperty("user.dir");
        if (cwd != null) {
            session.currentDir(Path.of(cwd));
        }
    }

    /** execute - one line of Gogo, its failure rethrown unchecked (a command's KernelException as is). */
    Object execute(String line) {
        try {
            return session.execute(line);
        } catch (RuntimeException ex) {
            throw ex;
        } catch (Exception ex) {
            throw new java.lang.reflect.UndeclaredThrowableException(ex);
        }
    }

    /**
     * The session's stderr without the line Gogo writes itself when a stage of a pipeline before the last
     * fails ({@code "gogo: IllegalArgumentException: ..."}, one write): the script runner reports that
     * failure as it reports any other, from the session's {@code pipe-exception}.
     */
    static final class WithoutPipeNoise extends java.io.FilterOutputStream {
        private static final byte[] PREFIX = "gogo: ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

        WithoutPipeNoise(java.io.OutputStream err) {
            super(err);
        }

        @Override
        public void write(byte[] b, int off, int len) throws java.io.IOException {
            if (len > PREFIX.length && b[off + len - 1] == '\n'
                    && java.util.Arrays.equals(b, off, off + PREFIX.length, PREFIX, 0, PREFIX.length)) {
                return;
            }
            out.write(b, off, len);
        }
    }

    @Override
    public void close() {
        session.close();
    }
}
