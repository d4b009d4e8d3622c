package org.peerdma.pci.imports.document;

/**
 * A run of lines of a document that belong to one command's output.
 *
 * @param command the command that produced it ("lspci -tv"), or "" when the document does not say
 * @param from first line index (0-based, into the source's lines)
 * @param to one past the last line index
 */
public record Section(String command, int from, int to) {
    public boolean isEmpty() {
        return to <= from;
    }
}
