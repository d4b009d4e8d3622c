package org.peerdma.p2pdma.internal;

import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The doctor's reports as JSON documents (docs/json.md): record components in declaration order,
 * nulls kept. Jackson is an optional import of this bundle: without it, {@link #write} says so.
 */
final class DoctorJson {
    private DoctorJson() {
    }

    /** Holder: Jackson's classes are loaded on first use only. */
    private static final class Mapper {
        static final ObjectMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    }

    static String write(Object report) {
        try {
            return Mapper.MAPPER.writeValueAsString(report) + "\n";
        } catch (JsonProcessingException ex) {
            throw new KernelException(Errno.EIO, "writing JSON: " + ex.getOriginalMessage(), ex);
        } catch (NoClassDefFoundError ex) {
            throw new KernelException(Errno.ENOSYS, "JSON output needs the Jackson bundles, which this runtime lacks");
        }
    }
}
