/**
 * The peerdma command line as a service: what {@code ./peerdma ARGS...} runs, callable from tests
 * and embedders with their own streams.
 */
@Export
@Version("1.0.0")
package org.peerdma.cli;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
