/**
 * The sysfs importer: reads /sys (live or copied), a copy of /sys/bus/pci/devices, or a
 * /sys/devices/pciDDDD:BB tree into a {@link org.peerdma.pci.dto.MachineDTO}, decoding each
 * function's text attributes, {@code resource} file and binary {@code config} space.
 * Implementation package; not exported.
 */
package org.peerdma.pci.imports.sysfs;
