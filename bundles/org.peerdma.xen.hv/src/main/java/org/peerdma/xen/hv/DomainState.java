package org.peerdma.xen.hv;

/** What `xl list` shows: r(unning), p(aused), c(rashed)/d(ying) until the last foreign mapping goes. */
public enum DomainState {
    RUNNING, PAUSED,
    /** Crashed: no clean shutdown; dying until its frames are released. */
    CRASHED,
    /** Destroyed: dying until its frames are released. */
    DYING,
    /** Gone: every frame back in the free pool. */
    DEAD
}
