package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.control.ControllerConfig;
import io.exitflow.jobs.it.RepoPaths;
import io.exitflow.runtime.api.EarlyExit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Each default is stated once: the jobs' options take the runtime's and the controller's defaults from
 * {@link EarlyExit} and {@link ControllerConfig}, and a job built from no settings runs what a plain
 * {@code EarlyExit.builder()} runs.
 */
class DefaultsAgreeTest {
    @Test
    void aJobWithoutSettingsRunsTheBuildersDefaults() {
        EarlyExit.Settings builder = EarlyExit.builder()
                .bundlePath(RepoPaths.resolve("models/sensor-cnn").toString())
                .build()
                .settings();
        JobConfig none = JobConfig.of(Map.of());
        assertEquals(builder.mode(), none.get(JobOptions.MODE));
        assertEquals(builder.maxBatchSize(), none.get(JobOptions.MAX_BATCH_SIZE));
        assertEquals(builder.maxWait(), none.get(JobOptions.MAX_WAIT));
        assertEquals(builder.fullDepthSampleRate(), none.get(JobOptions.FULL_DEPTH_SAMPLE_RATE));
        assertEquals(builder.statsInterval(), none.get(JobOptions.STATS_INTERVAL));
        assertEquals(builder.ort().device(), none.get(JobOptions.DEVICE));
        assertEquals(builder.ort().intraOpThreads(), none.get(JobOptions.INTRA_OP_THREADS));
        // the controller's utilisation: --budget-utilisation has no default of its own, its help says the controller's
        assertEquals(
                ControllerConfig.defaults().targetUtilisation(),
                FeedbackWiring.controllerConfig(JobConfig.of(Map.of(JobOptions.BUDGET_RATE, 100.0)))
                        .targetUtilisation());
        assertTrue(CommandLine.describe(JobOptions.BUDGET_UTILISATION)
                .contains("(default " + ControllerConfig.DEFAULT_TARGET_UTILISATION + ")"));
    }

    /**
     * Fails when a runtime or controller default is written again as a literal: the option declarations in
     * JobOptions must name EarlyExit's constants, and no main source but ControllerConfig may write the utilisation.
     */
    @Test
    void noDefaultIsRestated() throws IOException {
        String options =
                Files.readString(RepoPaths.resolve("jobs/src/main/java/io/exitflow/jobs/common/JobOptions.java"));
        for (String field : List.of(
                "MODE",
                "MAX_BATCH_SIZE",
                "MAX_WAIT",
                "FULL_DEPTH_SAMPLE_RATE",
                "STATS_INTERVAL",
                "DEVICE",
                "INTRA_OP_THREADS")) {
            // by pattern, not by exact text: the formatter may break a declaration after its '='
            Matcher declared = Pattern.compile("\\s" + field + "\\s*=").matcher(options);
            assertTrue(declared.find(), field + " is not declared in JobOptions");
            String declaration = options.substring(declared.start(), options.indexOf(';', declared.start()));
            assertTrue(declaration.contains("EarlyExit.DEFAULT_"), field + " restates its default: " + declaration);
        }
        Pattern utilisation = Pattern.compile("[^.\\d]0\\.85[^\\d]");
        List<String> restated = new ArrayList<>();
        for (String module : List.of("operators", "jobs", "bench")) {
            try (Stream<Path> files = Files.walk(RepoPaths.resolve(module + "/src/main/java"))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    if (!f.endsWith("ControllerConfig.java")
                            && utilisation.matcher(Files.readString(f)).find()) {
                        restated.add(f.toString());
                    }
                }
            }
        }
        assertEquals(List.of(), restated, "the default utilisation 0.85 belongs to ControllerConfig only");
    }
}
