/**
 * The P2P doctor: p2pdma's verdicts explained as structured reports (one pair, all pairs, a
 * what-if, a fleet machine), rendered as text for people and as JSON for scripts. The JSON form is
 * versioned ({@link org.peerdma.p2pdma.doctor.P2pDoctor#SCHEMA_VERSION}) and documented in
 * docs/json.md with the schema in docs/schema/peerdma-report.schema.json. Record component names
 * are the JSON field names: they never change meaning within a major schema version.
 */
@Export
@Version("1.4.0")
package org.peerdma.p2pdma.doctor;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
