package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

class JobConfigTest {
    @Test
    void commandLineWinsOverFlinkConfigWhichWinsOverDefaults() {
        Configuration flink = new Configuration();
        flink.setString("exitflow.max-batch-size", "32");
        flink.setString("exitflow.prediction-topic", "from-yaml");
        JobConfig cfg = JobConfig.parse(new String[] {"--max-batch-size", "128", "--bundle", "/m"}, flink);
        assertEquals(128, cfg.get(JobOptions.MAX_BATCH_SIZE));
        assertEquals("from-yaml", cfg.get(JobOptions.PREDICTION_TOPIC));
        assertEquals(Duration.ofMillis(20), cfg.get(JobOptions.MAX_WAIT));
        assertEquals("/m", cfg.require(JobOptions.BUNDLE));
        assertEquals("sensor-readings", cfg.get(JobOptions.INPUT_TOPIC, "sensor-readings"));
    }

    @Test
    void unknownSettingsMissingValuesAndBadNumbersFailAtStart() {
        Configuration flink = new Configuration();
        IllegalArgumentException unknown = assertThrows(
                IllegalArgumentException.class, () -> JobConfig.parse(new String[] {"--max-batch", "3"}, flink));
        assertTrue(unknown.getMessage().contains("unknown setting --max-batch"), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("--max-batch-size"), "lists the known settings");
        assertThrows(IllegalArgumentException.class, () -> JobConfig.parse(new String[] {"--bundle"}, flink));
        assertThrows(IllegalArgumentException.class, () -> JobConfig.parse(new String[] {"bundle", "x"}, flink));
        IllegalArgumentException bad = assertThrows(
                IllegalArgumentException.class,
                () -> JobConfig.parse(new String[] {"--max-batch-size", "many"}, flink));
        assertTrue(bad.getMessage().startsWith("--max-batch-size"), bad.getMessage());
        IllegalArgumentException missing = assertThrows(
                IllegalArgumentException.class,
                () -> JobConfig.parse(new String[0], flink).require(JobOptions.BOOTSTRAP_SERVERS));
        assertTrue(missing.getMessage().contains("missing --bootstrap-servers"), missing.getMessage());
    }

    @Test
    void budgetFlagsBuildOneBudget() {
        assertFalse(FeedbackWiring.budget(JobConfig.of(Map.of())).isPresent());
        assertEquals(
                500.0,
                FeedbackWiring.budget(JobConfig.of(Map.of(JobOptions.BUDGET_RATE, 500.0)))
                        .get()
                        .targetRate());
        var cost = FeedbackWiring.budget(
                        JobConfig.of(Map.of(JobOptions.BUDGET_COST, 0.4, JobOptions.MAX_ACCURACY_LOSS, 0.005)))
                .get();
        assertEquals(0.4, cost.costFraction());
        assertEquals(0.005, cost.maxAccuracyLoss().getAsDouble());
        assertThrows(
                IllegalArgumentException.class,
                () -> FeedbackWiring.budget(
                        JobConfig.of(Map.of(JobOptions.BUDGET_COST, 0.4, JobOptions.BUDGET_RATE, 100.0))));
        assertThrows(
                IllegalArgumentException.class,
                () -> FeedbackWiring.budget(JobConfig.of(Map.of(JobOptions.MAX_ACCURACY_LOSS, 0.01))));
        assertThrows(
                IllegalArgumentException.class,
                () -> FeedbackWiring.budget(JobConfig.of(Map.of(JobOptions.BUDGET_COST, 1.5))));
    }

    @Test
    void budgetUtilisationTunesARateBudgetOnly() {
        assertEquals(
                0.85,
                FeedbackWiring.controllerConfig(JobConfig.of(Map.of(JobOptions.BUDGET_RATE, 500.0)))
                        .targetUtilisation());
        assertEquals(
                0.01,
                FeedbackWiring.controllerConfig(JobConfig.of(
                                Map.of(JobOptions.BUDGET_RATE, 500.0, JobOptions.BUDGET_UTILISATION, 0.01)))
                        .targetUtilisation());
        IllegalArgumentException cost = assertThrows(
                IllegalArgumentException.class,
                () -> FeedbackWiring.controllerConfig(
                        JobConfig.of(Map.of(JobOptions.BUDGET_COST, 0.4, JobOptions.BUDGET_UTILISATION, 0.5))));
        assertTrue(cost.getMessage().contains("--budget-rate"), cost.getMessage());
        IllegalArgumentException range = assertThrows(
                IllegalArgumentException.class,
                () -> FeedbackWiring.controllerConfig(
                        JobConfig.of(Map.of(JobOptions.BUDGET_RATE, 500.0, JobOptions.BUDGET_UTILISATION, 0.0))));
        assertTrue(range.getMessage().startsWith("--budget-utilisation"), range.getMessage());
    }

    @Test
    void budgetWorkersOverrideTheReportingSubtasksForARateBudget() {
        assertEquals(
                0,
                FeedbackWiring.controllerConfig(JobConfig.of(Map.of(JobOptions.BUDGET_RATE, 500.0)))
                        .workers());
        assertEquals(
                6,
                FeedbackWiring.controllerConfig(
                                JobConfig.of(Map.of(JobOptions.BUDGET_RATE, 500.0, JobOptions.BUDGET_WORKERS, 6)))
                        .workers());
        IllegalArgumentException cost = assertThrows(
                IllegalArgumentException.class,
                () -> FeedbackWiring.controllerConfig(
                        JobConfig.of(Map.of(JobOptions.BUDGET_COST, 0.4, JobOptions.BUDGET_WORKERS, 2))));
        assertTrue(cost.getMessage().contains("--budget-rate"), cost.getMessage());
        IllegalArgumentException zero = assertThrows(
                IllegalArgumentException.class,
                () -> FeedbackWiring.controllerConfig(
                        JobConfig.of(Map.of(JobOptions.BUDGET_RATE, 500.0, JobOptions.BUDGET_WORKERS, 0))));
        assertTrue(zero.getMessage().startsWith("--budget-workers"), zero.getMessage());
    }

    @Test
    void budgetStageCostsAreMeasuredUnlessTheBundlesAreAskedFor() {
        assertFalse(FeedbackWiring.controllerConfig(JobConfig.of(Map.of(JobOptions.BUDGET_RATE, 500.0)))
                .fixedStageCosts());
        assertTrue(FeedbackWiring.controllerConfig(
                        JobConfig.of(Map.of(JobOptions.BUDGET_RATE, 500.0, JobOptions.BUDGET_STAGE_COSTS, "bundle")))
                .fixedStageCosts());
        IllegalArgumentException bad = assertThrows(
                IllegalArgumentException.class,
                () -> FeedbackWiring.controllerConfig(
                        JobConfig.of(Map.of(JobOptions.BUDGET_RATE, 500.0, JobOptions.BUDGET_STAGE_COSTS, "bundel"))));
        assertTrue(bad.getMessage().contains("measured or bundle"), bad.getMessage());
    }

    @Test
    void helpListsEverySettingWithItsDefault() {
        String help = JobConfig.help();
        for (var o : JobOptions.all()) {
            assertTrue(help.contains("--" + JobOptions.argName(o)), o.key());
        }
        assertTrue(help.contains("[default 64]"));
    }
}
