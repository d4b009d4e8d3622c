package org.peerdma.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

/** The JSON schema of docs/schema, for tests that check real --json output against it. */
public final class Schemas {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static volatile JsonSchema report;

    private Schemas() {
    }

    /** @return the repository root: the nearest ancestor of the working directory with docs/schema. */
    public static Path repo() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("docs/schema"))) {
                return p;
            }
        }
        throw new IllegalStateException("docs/schema not found above " + Path.of("").toAbsolutePath());
    }

    /** The report schema (docs/schema/peerdma-report.schema.json). */
    public static JsonSchema report() {
        JsonSchema s = report;
        if (s == null) {
            try (InputStream in = Files.newInputStream(repo().resolve("docs/schema/peerdma-report.schema.json"))) {
                s = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
            } catch (IOException ex) {
                throw new IllegalStateException(ex);
            }
            report = s;
        }
        return s;
    }

    /**
     * problems - what is wrong with a document against the report schema.
     * Return: one line per violation, empty when valid.
     */
    public static List<String> problems(String json) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (IOException ex) {
            return List.of("not JSON: " + ex.getMessage());
        }
        Set<ValidationMessage> errors = report().validate(node);
        return errors.stream().map(ValidationMessage::getMessage).sorted().toList();
    }
}
