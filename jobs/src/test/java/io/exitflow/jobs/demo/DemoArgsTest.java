package io.exitflow.jobs.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.simulator.SimulatorOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The demo's command line: its own settings, the simulator's it shares and the job's, through the one parser. */
class DemoArgsTest {
    @Test
    void eachKindOfBadValueNamesTheFlagAndWhatItAccepts() {
        Map<List<String>, String> cases = Map.of(
                List.of("--sensors", "many"), "--sensors must be an integer, got 'many'",
                List.of("--max-events", "1e3x"), "--max-events must be an integer, got '1e3x'",
                List.of("--bad-share", "some"), "--bad-share must be a number, got 'some'",
                List.of("--duration", "60"), "--duration must be a duration with its unit",
                List.of("--feedback", "maybe"), "--feedback must be on or off, got 'maybe'",
                List.of("--mode", "FAST"), "--mode must be one of CASCADE, SPLIT, FULL_DEPTH, ROW_AT_A_TIME",
                List.of("--schedule", "10@x"), "--schedule: ",
                List.of("--bootstrap-servers", "h:9"), "unknown setting --bootstrap-servers");
        cases.forEach((args, expected) -> {
            String msg = assertThrows(
                            IllegalArgumentException.class, () -> EmbeddedDemo.parse(args.toArray(String[]::new)))
                    .getMessage();
            assertTrue(msg.startsWith(expected), msg);
        });
    }

    @Test
    void settingsAndJobSettingsAreRead() {
        EmbeddedDemo.Settings s = EmbeddedDemo.parse(new String[] {
            "--duration",
            "30s",
            "--report-every",
            "500ms",
            "--feedback",
            "off",
            "--parallelism",
            "1",
            "--max-batch-size",
            "32",
            "--checkpoint-interval-ms",
            "200"
        });
        assertEquals(30_000, s.durationMillis);
        assertEquals(500, s.reportEveryMillis);
        assertEquals(1, s.parallelism);
        assertTrue(!s.feedback);
        assertEquals("32", s.job.get(JobOptions.MAX_BATCH_SIZE));
        assertEquals(
                Duration.ofMillis(200),
                io.exitflow.jobs.common.JobConfig.of(s.job).get(JobOptions.CHECKPOINT_INTERVAL));
    }

    @Test
    void usageListsTheDemosSettingsAndTheJobsWithTheirDefaults() {
        String usage = EmbeddedDemo.usage();
        for (String flag : List.of(
                "--duration",
                "--feedback",
                "--sensors",
                "--readings",
                "--max-batch-size",
                "--checkpoint-interval (or --checkpoint-interval-ms MILLIS)")) {
            assertTrue(usage.contains(flag), flag + " in\n" + usage);
        }
        assertTrue(usage.contains("[default " + DemoOptions.SCHEDULE.defaultValue() + "]"), usage);
        assertTrue(usage.contains("[default on]"), usage);
        assertTrue(!usage.contains("--bootstrap-servers"), "the demo runs its own broker");
    }

    @Test
    void noArgumentsGiveTheDeclaredDefaults() {
        EmbeddedDemo.Settings parsed = EmbeddedDemo.parse(new String[0]);
        EmbeddedDemo.Settings fresh = new EmbeddedDemo.Settings();
        assertEquals(DemoOptions.SCHEDULE.defaultValue(), parsed.schedule);
        assertEquals(fresh.schedule, parsed.schedule);
        assertEquals(SimulatorOptions.SENSORS.defaultValue(), parsed.sensors);
        assertEquals(SimulatorOptions.BAD_SHARE.defaultValue(), parsed.badShare);
        assertEquals(DemoOptions.REPORT_EVERY.defaultValue().toMillis(), parsed.reportEveryMillis);
        assertEquals(fresh.parallelism, parsed.parallelism);
        assertEquals(fresh.feedback, parsed.feedback);
        assertEquals(fresh.maxEvents, parsed.maxEvents);
        assertTrue(parsed.job.isEmpty());
    }
}
