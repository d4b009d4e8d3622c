package org.peerdma.pci;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Synchronous bus notifier (the kernel's bus_register_notifier for pci_bus_type), registered as a
 * whiteboard service. Calls happen on the thread that changes the topology, before the change
 * is visible to others for removal (BUS_NOTIFY_DEL_DEVICE) and after it for addition
 * (BUS_NOTIFY_ADD_DEVICE). Implementations must not block. Asynchronous uevents go through
 * EventAdmin, see {@link PciEvents}. Notifiers are called in {@code service.ranking} order,
 * highest first: a driver (ranking 100) releases what it built on a device before the subsystems
 * under it (p2pdma's provider teardown, ranking 0) take the device's resources away, as a driver's
 * remove() runs before the managed resources of its probe are released.
 */
@ConsumerType
public interface PciBusNotifier {
    /** A device became present. */
    default void deviceAdded(PciDevice dev) {
    }

    /** A device is about to go away: release everything taken on it. */
    default void deviceRemoving(PciDevice dev) {
    }

    /** ACS control bits of a device changed (setpci or pci= at load). */
    default void acsChanged(PciDevice dev, int oldCtrl, int newCtrl) {
    }

    /** A different machine was loaded: every earlier device is gone. */
    default void machineLoaded(PciMachine machine) {
    }
}
