package io.exitflow.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BenchArgsTest {
    private static final String USAGE = "bench [--events N] [--modes A,B]";

    @Test
    void valuesConvertAndDefaultsFillIn() {
        BenchArgs a = BenchArgs.parse(new String[] {"--events", "1200"}, USAGE, "events", "modes")
                .orElseThrow();
        assertEquals(1200L, a.get("events", 5L, Long::parseLong));
        assertEquals("CASCADE", a.get("modes", "CASCADE"));
    }

    @Test
    void helpAsksForNothingElse() {
        assertTrue(BenchArgs.parse(new String[] {"--help"}, USAGE, "events").isEmpty());
    }

    @Test
    void mistakesFailWithTheUsage() {
        IllegalArgumentException unknown = assertThrows(
                IllegalArgumentException.class, () -> BenchArgs.parse(new String[] {"--evnets", "3"}, USAGE, "events"));
        assertTrue(unknown.getMessage().contains("--evnets")
                && unknown.getMessage().contains(USAGE));
        IllegalArgumentException missing = assertThrows(
                IllegalArgumentException.class, () -> BenchArgs.parse(new String[] {"--events"}, USAGE, "events"));
        assertTrue(missing.getMessage().contains("needs a value"));
        BenchArgs bad = BenchArgs.parse(new String[] {"--events", "lots"}, USAGE, "events")
                .orElseThrow();
        IllegalArgumentException notANumber =
                assertThrows(IllegalArgumentException.class, () -> bad.get("events", 1L, Long::parseLong));
        assertTrue(notANumber.getMessage().startsWith("--events lots"));
    }
}
