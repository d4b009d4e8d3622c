package org.peerdma.xen.xl.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.osgi.framework.Bundle;

/**
 * A bundle's own jar rebuilt from its entries (getEntryPaths, so attached fragments are not mixed
 * in), to install the same bundle into another framework whatever location dom0 installed it from.
 */
final class BundleCopy {
    private BundleCopy() {
    }

    static InputStream jar(Bundle b) throws IOException {
        URL mf = b.getEntry("META-INF/MANIFEST.MF");
        if (mf == null) {
            throw new IOException(b.getSymbolicName() + " has no manifest");
        }
        Manifest manifest;
        try (InputStream in = mf.openStream()) {
            manifest = new Manifest(in);
        }
        ByteArrayOutputStream bos = new ByteArrayOutputStream(1 << 16);
        try (JarOutputStream jar = new JarOutputStream(bos, manifest)) {
            copy(b, "/", jar);
        }
        return new ByteArrayInputStream(bos.toByteArray());
    }

    private static void copy(Bundle b, String dir, JarOutputStream jar) throws IOException {
        Enumeration<String> paths = b.getEntryPaths(dir);
        if (paths == null) {
            return;
        }
        while (paths.hasMoreElements()) {
            String p = paths.nextElement();
            String name = p.startsWith("/") ? p.substring(1) : p;
            if (name.equals("META-INF/MANIFEST.MF") || name.equals("META-INF/")) {
                if (name.equals("META-INF/")) {
                    copy(b, p, jar);
                }
                continue;
            }
            if (name.endsWith("/")) {
                jar.putNextEntry(new JarEntry(name));
                jar.closeEntry();
                copy(b, p, jar);
            } else {
                URL u = b.getEntry(p);
                if (u == null) {
                    continue;
                }
                jar.putNextEntry(new JarEntry(name));
                try (InputStream in = u.openStream()) {
                    in.transferTo(jar);
                }
                jar.closeEntry();
            }
        }
    }
}
