package org.peerdma.module;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Registered by a module (bundle) to report the live objects others still hold from it:
 * device references, allocations, exported buffers. While the list is not empty, rmmod refuses
 * to unload the module ("Module is in use"), unless forced.
 */
@ConsumerType
public interface ModuleUsage {
    /**
     * holders - who holds what, one short line each, e.g. "p2pdma: 0000:01:00.0".
     * Called from any thread; must not block.
     */
    List<String> holders();
}
