/**
 * Kernel-wide basics shared by every peerdma subsystem: the Linux errno values and the
 * exception that carries one, so every model API fails the way the kernel does.
 */
@Export
@Version("1.2.0")
package org.peerdma.errno;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
