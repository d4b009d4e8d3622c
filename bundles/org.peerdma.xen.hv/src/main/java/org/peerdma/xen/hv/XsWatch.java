package org.peerdma.xen.hv;

/** A registered xenstore watch; fire(path, token) runs on the watching domain's event thread. */
public interface XsWatch extends AutoCloseable {
    String path();

    String token();

    /** close - XS_UNWATCH. */
    @Override
    void close();

    /** The callback. */
    @FunctionalInterface
    interface Callback {
        void fire(String path, String token);
    }
}
