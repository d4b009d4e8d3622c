package org.peerdma.xen.hv;

/**
 * One domain as the toolstack sees it.
 *
 * @param domid domain id
 * @param name the configured name
 * @param state its state
 * @param pages frames it was given at creation
 * @param framesHeld frames still owned (a dying domain keeps the ones others have mapped)
 * @param grantFrames grant-table frames set up now
 */
public record DomainInfo(int domid, String name, DomainState state, long pages, long framesHeld, int grantFrames) {
}
