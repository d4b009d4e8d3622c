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
 */
public record WhatIfReport(String schemaVersion, String kind, List<String> changes, Verdict before,
        CheckReport after) {
}
