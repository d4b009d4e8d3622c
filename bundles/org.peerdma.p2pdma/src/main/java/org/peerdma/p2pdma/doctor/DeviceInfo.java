package org.peerdma.p2pdma.doctor;

/**
 * A PCI function named in a report.
 *
 * @param bdf domain:bus:dev.fn ("0000:03:00.0")
 * @param vendorId 4 hex digits, or null when the description does not give it
 * @param deviceId 4 hex digits, or null when the description does not give it (lspci without -nn
 *        naming a device pci.ids does not know)
 * @param vendor vendor name as the dump or pci.ids gives it, may be empty
 * @param device device name as the dump or pci.ids gives it, may be empty
 * @param classCode 6 hex digits (base class, sub-class, prog-if), or null when not given (an lspci -tv tree)
 * @param kind gpu, nic, nvme, storage, accelerator, bridge or other (from the class code)
 */
public record DeviceInfo(String bdf, String vendorId, String deviceId, String vendor, String device,
        String classCode, String kind) {
}
