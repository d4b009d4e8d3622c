/** A mirror device like lib/test_hmm's dmirror (/dev/hmm_dmirrorN), used to exercise HMM. */
@Export
@Version("1.0.0")
package org.peerdma.mm.dmirror;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
