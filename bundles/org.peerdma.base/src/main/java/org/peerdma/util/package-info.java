/** Small helpers shared by the shell commands of several modules. */
@Export
@Version("1.1.0")
package org.peerdma.util;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
