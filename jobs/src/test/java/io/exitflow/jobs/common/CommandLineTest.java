package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.runtime.api.EarlyExit;
import io.exitflow.runtime.onnx.OrtConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/** The one command-line parser, as the jobs use it: typed values, old and new duration spellings, named errors. */
class CommandLineTest {
    private static JobConfig parse(String... args) {
        return JobConfig.parse(args, new Configuration());
    }

    private static String refused(String... args) {
        return assertThrows(IllegalArgumentException.class, () -> parse(args)).getMessage();
    }

    @Test
    void eachKindOfBadValueNamesTheFlagAndWhatItAccepts() {
        Map<List<String>, String> cases = Map.of(
                List.of("--max-batch-size", "abc"), "--max-batch-size must be an integer, got 'abc'",
                List.of("--full-depth-sample-rate", "lots"), "--full-depth-sample-rate must be a number, got 'lots'",
                List.of("--mode", "FAST"),
                        "--mode must be one of CASCADE, SPLIT, FULL_DEPTH, ROW_AT_A_TIME, got 'FAST'",
                List.of("--device", "tpu"), "--device must be cpu or cuda, got 'tpu'",
                List.of("--starting-offsets", "newest"),
                        "--starting-offsets must be one of committed, earliest, latest",
                List.of("--bounded", "yes"), "--bounded must be true or false, got 'yes'",
                List.of("--checkpoint-interval", "5"), "--checkpoint-interval must be a duration with its unit",
                List.of("--checkpoint-interval-ms", "5s"),
                        "--checkpoint-interval-ms must be a whole number of milliseconds",
                List.of("--gpu-slot-task-heap", "big"), "--gpu-slot-task-heap must be a memory size");
        cases.forEach((args, expected) -> {
            String msg = refused(args.toArray(String[]::new));
            assertTrue(msg.startsWith(expected), msg);
        });
    }

    @Test
    void enumsAreTypedAndTakeAnyCase() {
        JobConfig c = parse(
                "--mode",
                "split",
                "--device",
                "CUDA",
                "--starting-offsets",
                "Earliest",
                "--budget-stage-costs",
                "bundle");
        assertEquals(EarlyExit.Mode.SPLIT, c.get(JobOptions.MODE));
        assertEquals(OrtConfig.Device.CUDA, c.get(JobOptions.DEVICE));
        assertEquals(JobOptions.StartingOffsets.EARLIEST, c.get(JobOptions.STARTING_OFFSETS));
        assertEquals(JobOptions.StageCosts.BUNDLE, c.get(JobOptions.BUDGET_STAGE_COSTS));
    }

    @Test
    void aDurationTakesItsUnitOrItsOldMillisecondSpelling() {
        JobConfig old = parse("--checkpoint-interval-ms", "200");
        JobConfig typed = parse("--checkpoint-interval", "200ms");
        for (JobConfig c : List.of(old, typed)) {
            assertEquals(Duration.ofMillis(200), c.get(JobOptions.CHECKPOINT_INTERVAL));
        }
        assertEquals(Duration.ofMinutes(2), parse("--max-wait", "2min").get(JobOptions.MAX_WAIT));
        assertEquals(
                Duration.ZERO,
                parse("--watermark-max-drift", "0").get(JobOptions.WATERMARK_MAX_DRIFT)); // 0 needs no unit
        assertEquals(JobOptions.CHECKPOINT_INTERVAL.defaultValue(), parse().get(JobOptions.CHECKPOINT_INTERVAL));
        // config.yaml with the old key (a bare number: milliseconds) and code giving a duration
        Configuration yaml = new Configuration();
        yaml.setString("exitflow.idle-timeout-ms", "7000");
        assertEquals(Duration.ofSeconds(7), JobConfig.parse(new String[0], yaml).get(JobOptions.IDLE_TIMEOUT));
        assertEquals(
                Duration.ofMillis(300),
                JobConfig.of(Map.of(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(300)))
                        .get(JobOptions.CHECKPOINT_INTERVAL));
        // a setting without default stays unset, in either spelling
        assertTrue(parse().optional(JobOptions.MAX_GAP).isEmpty());
        assertEquals(
                Duration.ofMillis(45),
                parse("--max-gap", "45ms").optional(JobOptions.MAX_GAP).orElseThrow());
        assertEquals(
                Duration.ofMillis(45),
                parse("--max-gap-ms", "45").optional(JobOptions.MAX_GAP).orElseThrow());
    }

    /** Every duration setting keeps its older millisecond spelling, on the command line and in config.yaml. */
    @Test
    void everyDurationTakesItsOldMillisecondSpellingOnTheCommandLineAndInConfigYaml() {
        int durations = 0;
        for (ConfigOption<?> o : JobOptions.all()) {
            if (CommandLine.type(o) != Duration.class) {
                continue;
            }
            durations++;
            @SuppressWarnings("unchecked") // its type is Duration
            ConfigOption<Duration> d = (ConfigOption<Duration>) o;
            String millis = JobOptions.millisArgName(d);
            assertEquals(JobOptions.argName(d) + "-ms", millis);
            assertEquals(Duration.ofMillis(1234), parse("--" + millis, "1234").get(d), millis);
            Configuration yaml = new Configuration();
            yaml.setString("exitflow." + millis, "1234");
            assertEquals(
                    Duration.ofMillis(1234),
                    JobConfig.parse(new String[0], yaml).get(d),
                    millis);
            assertTrue(
                    JobConfig.help().contains("--" + JobOptions.argName(d) + " (or --" + millis + " MILLIS)"), millis);
        }
        assertEquals(12, durations, "the duration settings of JobOptions");
    }

    @Test
    void helpListsBothSpellingsAndTheDefaultsAsTyped() {
        String help = JobConfig.help();
        assertTrue(help.contains("--checkpoint-interval (or --checkpoint-interval-ms MILLIS)"), help);
        assertTrue(help.contains("[default 5 s]"), help);
        assertTrue(help.contains("[default cpu]"), help);
        assertTrue(help.contains("[default CASCADE]"), help);
        assertTrue(help.contains("[default committed]"), help);
    }
}
