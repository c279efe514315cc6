package io.exitflow.jobs.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.common.JobOptions;
import org.junit.jupiter.api.Test;

/** The demo's {@code --schema-registry} switch: off by default, and not together with another registry's URL. */
class DemoSchemaRegistryArgsTest {
    @Test
    void offByDefaultOnWhenAsked() {
        assertFalse(EmbeddedDemo.parse(new String[0]).schemaRegistry);
        assertTrue(EmbeddedDemo.parse(new String[] {"--schema-registry", "on"}).schemaRegistry);
        assertTrue(EmbeddedDemo.usage().contains("--schema-registry "), "listed in --help");
    }

    @Test
    void anExternalRegistryUrlPassesToTheJobButNotTogetherWithTheEmbeddedOne() {
        EmbeddedDemo.Settings s = EmbeddedDemo.parse(new String[] {"--schema-registry-url", "http://r:8081"});
        assertEquals("http://r:8081", s.job.get(JobOptions.SCHEMA_REGISTRY_URL));
        String msg = assertThrows(
                        IllegalArgumentException.class,
                        () -> EmbeddedDemo.parse(
                                new String[] {"--schema-registry", "on", "--schema-registry-url", "http://r:8081"}))
                .getMessage();
        assertTrue(msg.startsWith("--schema-registry starts an embedded registry and --schema-registry-url"), msg);
    }
}
