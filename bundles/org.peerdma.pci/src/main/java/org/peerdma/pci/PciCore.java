package org.peerdma.pci;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;

/**
 * The PCI core service: owns the loaded machine and every change to it. All mutators are
 * atomic: on error nothing changed.
 */
@ProviderType
public interface PciCore {
    /** @return the current machine (an empty machine before anything was loaded). */
    PciMachine machine();

    /**
     * load - replace the machine, like booting another box. The pci= options in force are applied
     * during enumeration. Errors: EINVAL naming the device for duplicate addresses, overlapping
     * bridges or a device outside every host bridge; the previous machine stays loaded.
     */
    PciMachine load(MachineDTO machine);

    /**
     * reboot - enumerate the loaded machine again from the description it was loaded from (the
     * hardware's state: removed devices return, ACS bits as dumped), applying the pci= options in
     * force now. Return: the new machine.
     */
    PciMachine reboot();

    /**
     * detached - build a machine from a description without loading it: same validation and
     * pci= options as {@link #load}, but it is never current, sends no events and has no
     * notifiers, so what-if questions cannot disturb the loaded machine. Errors as for load.
     */
    PciMachine detached(MachineDTO machine);

    /**
     * detached - as {@link #detached(MachineDTO)}, booted as {@code boot} says (pci= options, IOMMU, release):
     * the what-if of a reboot. The log lines of pci_enable_acs() are the machine's notes, each "booted: ...".
     * Errors: EINVAL for an iommu other than on/pt/off or a release that is none; as for load.
     */
    PciMachine detached(MachineDTO machine, Boot boot);

    /** @return the machine as a DTO, present devices only, for saving or what-if copies. */
    MachineDTO snapshot();

    /** get - the present device at {@code bdf}. Errors: ENODEV. */
    PciDevice get(Bdf bdf);

    Optional<PciDevice> find(Bdf bdf);

    /**
     * remove - echo 1 &gt; /sys/bus/pci/devices/BDF/remove: the device and everything below it go
     * away (children first), notifiers and uevents fire. The hardware is still there: {@link #rescan()}
     * finds it again. Errors: ENODEV.
     * Return: removed addresses, deepest first.
     */
    List<Bdf> remove(Bdf bdf);

    /**
     * rescan - echo 1 &gt; /sys/bus/pci/rescan: re-enumerate removed devices that are still
     * physically present. Return: the addresses added.
     */
    List<Bdf> rescan();

    /**
     * hotAdd - new hardware appears (a card inserted in a hot-plug slot, or a what-if device).
     * Bridges in the list make new buses. Errors: EINVAL for a duplicate or unplaceable device,
     * EEXIST if the address is present. Return: the addresses added.
     */
    List<Bdf> hotAdd(List<DeviceDTO> devices);

    /**
     * hotUnplug - the hardware leaves (surprise removal): like {@link #remove} but not found by rescan.
     */
    List<Bdf> hotUnplug(Bdf bdf);

    /**
     * setAcsCtrl - write the ACS control register (setpci ECAP_ACS+6.w=VALUE). Bits the
     * capability does not implement read back as 0, as on hardware. Errors: ENODEV for a missing
     * device, EINVAL when it has no ACS capability.
     * Return: the control value now in force.
     */
    int setAcsCtrl(Bdf bdf, int ctrl);

    /** acquire - pci_dev_get for {@code holder}. Errors: ENODEV. */
    PciDeviceRef acquire(Bdf bdf, String holder);

    /** @return the live references, as "holder -&gt; bdf". */
    List<String> references();

    /** @return the pci= options in force and what applying them did at the last enumeration. */
    List<String> cmdlineLog();
}
