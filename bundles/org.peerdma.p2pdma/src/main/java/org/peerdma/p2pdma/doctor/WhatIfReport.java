package org.peerdma.p2pdma.doctor;

import java.util.List;

/**
 * check on a changed copy of the machine ({@code peerdma whatif}).
 *
 * @param schemaVersion {@link P2pDoctor#SCHEMA_VERSION}
 * @param kind "whatif"
 * @param changes what was changed, as applied ("0000:02:08.0 ACSCtl SV UF")
 * @param before the verdict on the machine as loaded
 * @param after the full report on the changed copy
 * @param iommu what a reboot with the IOMMU change does to the IOMMU groups and the DMA addresses, null when
 *        no iommu= change was made (since schema 1.4)
 */
public record WhatIfReport(String schemaVersion, String kind, List<String> changes, Verdict before,
        CheckReport after, Iommu iommu) {
    /** The 1.3 form. */
    public WhatIfReport(String schemaVersion, String kind, List<String> changes, Verdict before, CheckReport after) {
        this(schemaVersion, kind, changes, before, after, null);
    }

    /**
     * @param mode on, pt or off, as the change asked
     * @param groupsBefore the number of IOMMU groups of the machine as loaded (null: no IOMMU module loaded)
     * @param groupsAfter the number after the reboot (0 with the IOMMU off; null: no IOMMU module)
     * @param providerGroup the provider's group after the reboot, its members (empty with the IOMMU off)
     * @param clientGroup the client's group after the reboot
     * @param sameGroup whether both are in one group after the reboot (they then share one IOVA space and
     *        cannot be given to different VMs)
     * @param dmaAddress what the client's DMA address for the provider's memory is after the reboot
     */
    public record Iommu(String mode, Integer groupsBefore, Integer groupsAfter, List<String> providerGroup,
            List<String> clientGroup, boolean sameGroup, String dmaAddress) {
    }
}
