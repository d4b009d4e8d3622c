package org.peerdma.cli.internal;

import org.osgi.framework.FrameworkUtil;

import picocli.CommandLine.IVersionProvider;

/** peerdma --version: the bundle version of the command line. */
final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
        var b = FrameworkUtil.getBundle(Version.class);
        String v = b == null ? "(outside OSGi)" : b.getVersion().toString();
        return new String[] {"peerdma " + v, "JSON schema " + org.peerdma.p2pdma.doctor.P2pDoctor.SCHEMA_VERSION};
    }
}
