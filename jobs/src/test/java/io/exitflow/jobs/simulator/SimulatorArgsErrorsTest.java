package io.exitflow.jobs.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The simulator's command line through the one parser: bad values name the flag, defaults are the declared ones. */
class SimulatorArgsErrorsTest {
    @Test
    void eachKindOfBadValueNamesTheFlagAndWhatItAccepts() {
        Map<List<String>, String> cases = Map.of(
                List.of("--sensors", "many"), "--sensors must be an integer, got 'many'",
                List.of("--seed", "x"), "--seed must be an integer, got 'x'",
                List.of("--bad-share", "some"), "--bad-share must be a number, got 'some'",
                List.of("--loop", "yes"), "--loop must be on or off, got 'yes'",
                List.of("--schedule", "fast"), "--schedule: ",
                List.of("--topicc", "t"), "unknown setting --topicc");
        cases.forEach((args, expected) -> {
            String msg = assertThrows(
                            IllegalArgumentException.class, () -> StreamSimulator.parse(args.toArray(String[]::new)))
                    .getMessage();
            assertTrue(msg.startsWith(expected), msg);
        });
    }

    @Test
    void usageListsEverySettingWithItsDefault() {
        String usage = StreamSimulator.usage();
        for (var o : SimulatorOptions.all()) {
            assertTrue(usage.contains("--" + io.exitflow.jobs.common.CommandLine.name(o)), o.key());
        }
        assertTrue(usage.contains("[default " + SimulatorOptions.SCHEDULE.defaultValue() + "]"), usage);
    }

    @Test
    void noArgumentsGiveTheDeclaredDefaults() {
        StreamSimulator.Settings parsed = StreamSimulator.parse(new String[0]);
        StreamSimulator.Settings fresh = new StreamSimulator.Settings();
        assertEquals(SimulatorOptions.TOPIC.defaultValue(), parsed.topic);
        assertEquals(fresh.topic, parsed.topic);
        assertEquals(fresh.schedule.toString(), parsed.schedule.toString());
        assertEquals(fresh.sensors, parsed.sensors);
        assertEquals(fresh.split, parsed.split);
        assertEquals(fresh.seed, parsed.seed);
        assertEquals(fresh.badShare, parsed.badShare);
        assertEquals(fresh.maxEvents, parsed.maxEvents);
        assertEquals(fresh.startTime, parsed.startTime);
        assertEquals(fresh.loop, parsed.loop);
        assertEquals(fresh.endFlush, parsed.endFlush);
    }
}
