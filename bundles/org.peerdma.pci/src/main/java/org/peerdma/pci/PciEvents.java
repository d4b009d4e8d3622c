package org.peerdma.pci;

/**
 * EventAdmin topics and properties of PCI uevents (KOBJ_ADD, KOBJ_REMOVE, KOBJ_CHANGE), with
 * the environment keys the kernel puts in a PCI uevent.
 */
public final class PciEvents {
    public static final String TOPIC_BASE = "org/peerdma/uevent/pci/";
    public static final String TOPIC_ADD = TOPIC_BASE + "ADD";
    public static final String TOPIC_REMOVE = TOPIC_BASE + "REMOVE";
    public static final String TOPIC_CHANGE = TOPIC_BASE + "CHANGE";
    /** A whole machine was loaded (all earlier devices removed first). */
    public static final String TOPIC_MACHINE = TOPIC_BASE + "MACHINE";
    public static final String ALL_TOPICS = TOPIC_BASE + "*";

    public static final String ACTION = "ACTION";
    public static final String DEVPATH = "DEVPATH";
    public static final String SUBSYSTEM = "SUBSYSTEM";
    public static final String PCI_CLASS = "PCI_CLASS";
    public static final String PCI_ID = "PCI_ID";
    public static final String PCI_SUBSYS_ID = "PCI_SUBSYS_ID";
    public static final String PCI_SLOT_NAME = "PCI_SLOT_NAME";
    public static final String SEQNUM = "SEQNUM";
    /** For CHANGE: what changed ("acs"). */
    public static final String CHANGE = "CHANGE";
    /** For MACHINE: machine name and source. */
    public static final String MACHINE_NAME = "MACHINE_NAME";
    public static final String MACHINE_SOURCE = "MACHINE_SOURCE";

    private PciEvents() {
    }
}
