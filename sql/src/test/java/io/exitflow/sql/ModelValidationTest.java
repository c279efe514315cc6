package io.exitflow.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CREATE MODEL with provider exitflow: options and INPUT/OUTPUT columns are checked against the real bundle
 * (models/features-mlp) when a query using the model is planned, with messages that name the option or column.
 */
class ModelValidationTest {
    private static final String BUNDLE =
            SqlTestSupport.repo("models/features-mlp").toString();
    private static final String GOOD_OUTPUT = "OUTPUT (predicted_class STRING, exit_stage INT)";
    private static StreamTableEnvironment tEnv;
    private static int models;

    @BeforeAll
    static void source() {
        tEnv = SqlTestSupport.tableEnv(1);
        // One row of 36 features as an array, and as 36 columns.
        StringBuilder values = new StringBuilder("ARRAY[");
        for (int i = 0; i < 36; i++) {
            values.append(i == 0 ? "" : ", ").append("CAST(").append(i * 0.1).append(" AS FLOAT)");
        }
        values.append(']');
        tEnv.executeSql("CREATE TEMPORARY VIEW events AS SELECT * FROM (VALUES ('e1', " + values + ", ARRAY[1, 2], "
                + "CAST(1 AS FLOAT), CAST(2 AS FLOAT), CAST(3 AS FLOAT))) AS t(id, features, ints, a, b, c)");
        tEnv.executeSql(
                "CREATE TABLE sink (id STRING, predicted_class STRING, exit_stage INT) WITH ('connector' = 'blackhole')");
    }

    /** Plans (and does not run) an INSERT through ML_PREDICT with a model of these clauses; the planning error. */
    private static Throwable planningError(String clauses) {
        return planningError(clauses, "features");
    }

    private static Throwable planningError(String clauses, String descriptor) {
        String name = "m" + models++;
        tEnv.executeSql("CREATE TEMPORARY MODEL " + name + " " + clauses);
        return assertThrows(
                Throwable.class,
                () -> tEnv.explainSql("INSERT INTO sink SELECT id, predicted_class, exit_stage "
                        + "FROM ML_PREDICT(TABLE events, MODEL " + name + ", DESCRIPTOR(" + descriptor + "))"));
    }

    private static String messages(Throwable t) {
        List<String> all = new ArrayList<>();
        for (Throwable c = t; c != null; c = c.getCause()) {
            all.add(c.getMessage());
        }
        return String.join(" <- ", all);
    }

    private static String withOptions(String options) {
        return "INPUT (features ARRAY<FLOAT>) " + GOOD_OUTPUT + " WITH ('provider' = 'exitflow', 'bundle' = '" + BUNDLE
                + "'" + options + ")";
    }

    @Test
    void aGoodModelPlans() {
        tEnv.executeSql("CREATE TEMPORARY MODEL good "
                + withOptions(", 'max-batch-size' = '16', 'max-wait' = '5 ms', " + "'thresholds' = '0.9,0.8,0.7,0'"));
        String plan = tEnv.explainSql("INSERT INTO sink SELECT id, predicted_class, exit_stage "
                + "FROM ML_PREDICT(TABLE events, MODEL good, DESCRIPTOR(features))");
        assertTrue(plan.contains("ML_PREDICT") || plan.toLowerCase().contains("predict"), plan);
    }

    @Test
    void badOptionsNameTheOption() {
        assertTrue(messages(planningError(withOptions(", 'max-batch-size' = '0'")))
                .contains("option 'max-batch-size' must be >= 1, got 0"));
        assertTrue(messages(planningError(withOptions(", 'device' = 'tpu'")))
                .contains("option 'device' must be cpu or cuda, got 'tpu'"));
        assertTrue(messages(planningError(withOptions(", 'thresholds' = '0.9,0.8'")))
                .contains("option 'thresholds' = '0.9,0.8' has 2 values, bundle features-mlp has 4 stages"));
        assertTrue(messages(planningError(withOptions(", 'thresholds' = '0.9,1.5,0.5,0'")))
                .contains("option 'thresholds' value 1 is 1.5, outside [0, 1]"));
        assertTrue(messages(planningError(withOptions(", 'budget-rate' = '1000'")))
                .contains("option 'budget-rate' does not apply to ML_PREDICT"));
        String unknown = messages(planningError(withOptions(", 'max-batchsize' = '8'")));
        assertTrue(unknown.contains("max-batchsize"), unknown);
        String missing = messages(
                planningError("INPUT (features ARRAY<FLOAT>) " + GOOD_OUTPUT + " WITH ('provider' = 'exitflow')"));
        assertTrue(missing.contains("bundle"), missing);
        String notABundle = messages(planningError("INPUT (features ARRAY<FLOAT>) " + GOOD_OUTPUT
                + " WITH ('provider' = 'exitflow', 'bundle' = '/nonexistent/bundle')"));
        assertTrue(
                notABundle.contains("option 'bundle' = '/nonexistent/bundle' is not a usable model bundle"),
                notABundle);
    }

    @Test
    void mismatchedColumnsNameTheColumn() {
        String opts = " WITH ('provider' = 'exitflow', 'bundle' = '" + BUNDLE + "')";
        String intArray = messages(planningError("INPUT (ints ARRAY<INT>) " + GOOD_OUTPUT + opts, "ints"));
        assertTrue(intArray.contains("INPUT column `ints` of model") && intArray.contains("ARRAY<FLOAT>"), intArray);
        String threeColumns =
                messages(planningError("INPUT (a FLOAT, b FLOAT, c FLOAT) " + GOOD_OUTPUT + opts, "a, b, c"));
        assertTrue(
                threeColumns.contains("declares INPUT (a FLOAT, b FLOAT, c FLOAT), but the bundle at its 'bundle' "
                        + "option takes one ARRAY<FLOAT> column of 36 values"),
                threeColumns);
        String unknownOut = messages(planningError("INPUT (features ARRAY<FLOAT>) OUTPUT (predicted_class STRING, "
                + "exit_stage INT, confidence DOUBLE)" + opts));
        assertTrue(
                unknownOut.contains("OUTPUT column `confidence` of model") && unknownOut.contains("probability FLOAT"),
                unknownOut);
        String wrongType = messages(planningError(
                "INPUT (features ARRAY<FLOAT>) OUTPUT (predicted_class INT, " + "exit_stage INT)" + opts));
        assertTrue(
                wrongType.contains("OUTPUT column `predicted_class` of model") && wrongType.contains("must be STRING"),
                wrongType);
        assertEquals(8, ModelColumns.Output.values().length);
    }
}
