/**
 * dma-buf driver models: a GPU-like exporter whose VRAM BAR is a p2pdma provider and decides per
 * attachment whether the importer gets peer-to-peer addresses (drivers/gpu/drm/amd/amdgpu/amdgpu_dma_buf.c).
 * The importers are their own module (org.peerdma.dmabuf.importers).
 */
@Export
@Version("1.0.0")
package org.peerdma.dmabuf.drivers;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
