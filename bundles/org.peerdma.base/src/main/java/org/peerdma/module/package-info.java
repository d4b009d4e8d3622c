/**
 * What the module tools (lsmod, rmmod) ask a module about the live objects it has handed out,
 * the analogue of a kernel module's reference count.
 */
@Export
@Version("1.0.0")
package org.peerdma.module;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
