package org.peerdma.cli.internal;

import java.io.IOException;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;

/**
 * cli:pass - copy standard input to standard output. The script runner rewrites {@code CMD > FILE}
 * to {@code CMD | cli:pass > FILE}, so a command that returns its result (as every model command
 * does) writes it to the file the way a shell user expects.
 */
@Component(service = PassCommand.class, property = {"osgi.command.scope=cli", "osgi.command.function=pass"})
public class PassCommand {
    @Descriptor("copy standard input to standard output (used for 'CMD > FILE' in scripts)")
    public void pass() throws IOException {
        System.in.transferTo(System.out);
        System.out.flush();
    }
}
