/** Device memory mapped into a process and reached by peers through the vma (Glisse's 2019 RFC). */
@Export
@Version("1.0.0")
package org.peerdma.mm.p2pvma;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
