package io.exitflow.bench.eos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.bench.BenchArgs;
import io.exitflow.jobs.common.CommandLine;
import io.exitflow.jobs.common.JobOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** EosBenchmark's settings: typed, each default stated once (in EosOptions), all listed by --help. */
class EosOptionsTest {
    private static BenchArgs parse(String... args) {
        return BenchArgs.parse(args, "EosBenchmark", EosOptions.all()).orElseThrow();
    }

    @Test
    void runShsSpellingsParseTyped() {
        BenchArgs a = parse(
                "--job-jar",
                "j.jar",
                "--readings",
                "2000",
                "--rate",
                "800",
                "--sample-s",
                "0.5",
                "--checkpoint-interval-ms",
                "2000",
                "--keep-cluster",
                "on",
                "--job-args",
                "--max-batch-size 64");
        assertEquals(2000L, a.get(EosOptions.READINGS));
        assertEquals(Optional.of(800.0), a.optional(EosOptions.RATE));
        assertEquals(Optional.of(0.5), a.optional(EosOptions.SAMPLE_S));
        assertEquals(Optional.of(Duration.ofSeconds(2)), a.optional(JobOptions.CHECKPOINT_INTERVAL));
        assertTrue(a.get(EosOptions.KEEP_CLUSTER).on());
        assertEquals("--max-batch-size 64", a.get(EosOptions.JOB_ARGS));
        // not given: the job's own interval applies, so none is passed on
        assertTrue(parse().optional(JobOptions.CHECKPOINT_INTERVAL).isEmpty());
        assertEquals(2, parse().get(EosOptions.PARTITIONS));
    }

    @Test
    void mistakesNameTheFlagAndWhatItAccepts() {
        String msg = assertThrows(IllegalArgumentException.class, () -> parse("--kills", "two"))
                .getMessage();
        assertTrue(msg.startsWith("--kills must be an integer, got 'two'"), msg);
        msg = assertThrows(IllegalArgumentException.class, () -> parse("--keep-cluster", "yes"))
                .getMessage();
        assertTrue(msg.startsWith("--keep-cluster must be on or off"), msg);
        assertEquals(Optional.empty(), EosBenchmark.sensorsSetting(parse()));
        assertEquals(Optional.of(40), EosBenchmark.sensorsSetting(parse("--sensors", "40")));
        msg = assertThrows(
                        IllegalArgumentException.class, () -> EosBenchmark.sensorsSetting(parse("--sensors", "many")))
                .getMessage();
        assertTrue(msg.startsWith("--sensors must be auto or a positive number, got 'many'"), msg);
    }

    @Test
    void helpListsEveryDefaultIncludingThoseThatDependOnTheMode() {
        String help = CommandLine.of(EosOptions.all()).help();
        for (String expected : new String[] {
            "[default models/sensor-cnn]",
            "[default 1000000]",
            "default: 5000 in eos",
            "default: 5 in eos, 60 in soak",
            "default: 300 at the end of eos and soak, 600 for a capacity probe",
            "--checkpoint-interval (or --checkpoint-interval-ms MILLIS)",
            "[default off]"
        }) {
            assertTrue(help.contains(expected), expected + " in\n" + help);
        }
    }

    /** Fails when a default is written again where a setting is read: EosBenchmark reads options, not names. */
    @Test
    void eosBenchmarkStatesNoDefaultOfItsOwn() throws IOException {
        // surefire runs in the module directory
        String source = Files.readString(Path.of("src/main/java/io/exitflow/bench/eos/EosBenchmark.java"));
        assertFalse(
                Pattern.compile("args\\.get\\(\"").matcher(source).find(),
                "EosBenchmark reads a setting by name with an inline default");
    }
}
