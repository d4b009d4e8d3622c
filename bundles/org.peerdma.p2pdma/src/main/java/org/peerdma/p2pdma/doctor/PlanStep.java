package org.peerdma.p2pdma.doctor;

/**
 * One change that would make a refused or host-bridge pair go peer to peer, in a plan ranked by how little it
 * changes: a runtime register write first, then a boot option, a firmware setting, a kernel upgrade, and moving
 * a card (since schema 1.4).
 *
 * @param rank 1 for the smallest change
 * @param kind runtime, boot, firmware, kernel or slot
 * @param change what to do, quoted so it pastes ("setpci -s 0000:02:08.0 ECAP_ACS+6.w=0000:000c")
 * @param effect what it gives and what it costs ("lost at reboot", "the devices below share an IOMMU group")
 * @param proved whether the model booted a copy with it and the pair then went peer to peer (null: not tried)
 */
public record PlanStep(int rank, String kind, String change, String effect, Boolean proved) {
}
