package org.peerdma.itests;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * A module with one run-time writable parameter (level) and one load-time parameter (mode), so
 * the tests can drive modparam's two kinds of parameters. Registered as a service so a test can
 * read what the component was configured with.
 */
@Component(service = ParamProbe.class, configurationPid = ParamProbe.PID, immediate = true)
@Designate(ocd = ParamProbe.Config.class)
public class ParamProbe {
    static final String PID = "org.peerdma.itests.probe";

    @ObjectClassDefinition(id = PID, name = "itest parameter probe")
    @interface Config {
        @AttributeDefinition(description = "writable while loaded (mode 0644)")
        int level() default 1;

        @AttributeDefinition(description = "load time only (mode 0444)")
        String mode() default "normal";
    }

    volatile int level;
    volatile String mode;

    @Activate
    @Modified
    void configure(Config c) {
        level = c.level();
        mode = c.mode();
    }
}
