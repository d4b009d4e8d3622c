package org.peerdma.dmabuf.core;

import org.peerdma.dmabuf.resv.DmaResv;

/**
 * struct dma_buf_export_info.
 *
 * @param exporter exp_name, e.g. the exporting driver's name
 * @param ops the exporter's ops
 * @param size bytes
 * @param priv the exporter's private data (mandatory: export refuses null)
 * @param resv a shared reservation object, or null for the buffer's own
 */
public record ExportInfo(String exporter, DmaBufOps ops, long size, Object priv, DmaResv resv) {
}
