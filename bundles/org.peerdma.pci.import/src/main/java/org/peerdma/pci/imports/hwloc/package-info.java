/**
 * Importers for hwloc output ({@code lstopo --of xml}, {@code lstopo -v}) and for NCCL's
 * topology dump (NCCL_TOPO_DUMP_FILE). Private to the import bundle.
 */
package org.peerdma.pci.imports.hwloc;
