package org.peerdma.p2pdma.doctor;

/**
 * A PCI function named in a report.
 *
 * @param bdf domain:bus:dev.fn ("0000:03:00.0")
 * @param vendorId 4 hex digits
 * @param deviceId 4 hex digits
 * @param vendor vendor name as the dump or pci.ids gives it, may be empty
 * @param device device name as the dump or pci.ids gives it, may be empty
 * @param classCode 6 hex digits (base class, sub-class, prog-if)
 * @param kind gpu, nic, nvme, storage, accelerator, bridge or other (from the class code)
 */
public record DeviceInfo(String bdf, String vendorId, String deviceId, String vendor, String device,
        String classCode, String kind) {
}
