package io.exitflow.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The script runner's parsing, on the README's example script itself. */
class SqlScriptRunnerTest {
    @Test
    void splitsTheExampleScriptIntoItsStatements() throws Exception {
        String text = Files.readString(SqlTestSupport.repo("sql/examples/classify-features.sql"));
        List<String> s = SqlScriptRunner.statements(SqlScriptRunner.substitute(text, Map.of("EXITFLOW_HOME", "/repo")));
        assertEquals(5, s.size(), s.toString());
        assertTrue(s.get(0).startsWith("CREATE TABLE feature_events"), s.get(0));
        assertTrue(s.get(2).contains("'bundle' = '/repo/models/features-mlp'"), s.get(2));
        assertTrue(
                s.get(3).startsWith("INSERT INTO predictions_sql") && s.get(3).contains("ML_PREDICT"), s.get(3));
        assertTrue(s.get(4).startsWith("INSERT INTO feature_events"), s.get(4));
        assertEquals(10, s.get(4).split("CAST\\(ARRAY\\[", -1).length - 1, "ten sample events");
        assertTrue(s.stream().noneMatch(x -> x.endsWith(";") || x.contains("--")), s.toString());
    }

    @Test
    void aPlaceholderWithoutAValueIsRefused() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> SqlScriptRunner.substitute("'bundle' = '${BUNDLE_DIR}'", Map.of()));
        assertEquals("the script uses ${BUNDLE_DIR}: pass --set BUNDLE_DIR=VALUE", e.getMessage());
    }
}
