/**
 * Pictures of a machine a person would rather look at than read: the PCI tree (host bridges with their
 * whitelist state, root and switch ports with their ACS state, endpoints by kind, a pair's path and verdict)
 * and the verdict matrix as a heatmap, as SVG or PNG. What is drawn comes from the PCI core and the P2P
 * doctor; nothing here decides anything.
 */
@Export
@Version("1.0.0")
package org.peerdma.draw;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
