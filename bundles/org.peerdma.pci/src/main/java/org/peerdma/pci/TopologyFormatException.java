package org.peerdma.pci;

import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;

/**
 * A dump or topology file that cannot be read: EINVAL with the file and line named.
 */
public class TopologyFormatException extends KernelException {
    private static final long serialVersionUID = 1L;
    private final String file;
    private final int line;

    /**
     * @param file file name or other source name
     * @param line 1-based line number, 0 when the problem is not tied to a line
     * @param message what was wrong
     */
    public TopologyFormatException(String file, int line, String message) {
        super(Errno.EINVAL, (line > 0 ? file + ":" + line + ": " : file + ": ") + message);
        this.file = file;
        this.line = line;
    }

    public String file() {
        return file;
    }

    public int line() {
        return line;
    }
}
