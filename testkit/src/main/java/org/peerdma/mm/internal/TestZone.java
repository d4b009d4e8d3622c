package org.peerdma.mm.internal;

import java.lang.annotation.Annotation;

import org.peerdma.mm.ZoneDevice;

/** A ZONE_DEVICE service with the module's defaults, built outside OSGi. */
public final class TestZone {
    private TestZone() {
    }

    public static ZoneDevice zone() {
        ZoneDeviceImpl z = new ZoneDeviceImpl();
        z.configure(new ZoneDeviceConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return ZoneDeviceConfig.class;
            }

            @Override
            public String system__ram() {
                return "0x0-0x7fffffff,0x100000000-0x47fffffff";
            }

            @Override
            public int max__physmem__bits() {
                return 46;
            }

            @Override
            public int teardown__warn__ms() {
                return 100;
            }
        });
        return z;
    }
}
