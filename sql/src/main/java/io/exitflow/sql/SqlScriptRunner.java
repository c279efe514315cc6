package io.exitflow.sql;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a SQL script as one Flink job, for clusters without a SQL client (such as deploy/local):
 *
 * <pre>deploy/local/submit.sh --jar sql/target/exitflow-sql-0.1.0-SNAPSHOT-provider.jar \
 *     io.exitflow.sql.SqlScriptRunner /abs/path/script.sql [--set NAME=VALUE ...]</pre>
 *
 * Statements end with a semicolon at the end of a line; {@code --} comment lines are skipped. Every statement but
 * {@code INSERT} runs at once, in order (CREATE TABLE, CREATE MODEL, SET, ...); the INSERTs are gathered into one
 * statement set and submitted together at the end, as one job (a jar run through Flink's REST API may submit only
 * one). {@code ${NAME}} in the script is replaced by the value of {@code --set NAME=VALUE}; a placeholder without a
 * value fails before anything runs.
 */
public final class SqlScriptRunner {
    private static final Logger LOG = LoggerFactory.getLogger(SqlScriptRunner.class);
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z0-9_.-]+)}");

    private SqlScriptRunner() {}

    public static void main(String[] args) throws IOException {
        if (args.length == 0 || args[0].startsWith("-")) {
            throw new IllegalArgumentException("usage: SqlScriptRunner SCRIPT.sql [--set NAME=VALUE ...]");
        }
        Path script = Path.of(args[0]);
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++) {
            if (!args[i].equals("--set") || i + 1 == args.length || !args[i + 1].contains("=")) {
                throw new IllegalArgumentException("argument '" + args[i] + "': expected --set NAME=VALUE");
            }
            String kv = args[++i];
            values.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
        List<String> statements = statements(substitute(Files.readString(script, StandardCharsets.UTF_8), values));
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(
                StreamExecutionEnvironment.getExecutionEnvironment(), EnvironmentSettings.inStreamingMode());
        StatementSet inserts = tEnv.createStatementSet();
        int n = 0;
        for (String s : statements) {
            if (s.toUpperCase(Locale.ROOT).startsWith("INSERT")) {
                inserts.addInsertSql(s);
                n++;
            } else {
                LOG.info("{}: {}", script.getFileName(), firstLine(s));
                tEnv.executeSql(s);
            }
        }
        if (n == 0) {
            LOG.info("{}: no INSERT statement, nothing to submit", script.getFileName());
            return;
        }
        TableResult r = inserts.execute();
        LOG.info(
                "{}: {} INSERT statements submitted as job {}",
                script.getFileName(),
                n,
                r.getJobClient().map(c -> c.getJobID().toString()).orElse("?"));
    }

    /** The script with every {@code ${NAME}} replaced. */
    static String substitute(String text, Map<String, String> values) {
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = values.get(m.group(1));
            if (v == null) {
                throw new IllegalArgumentException(
                        "the script uses ${" + m.group(1) + "}: pass --set " + m.group(1) + "=VALUE");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Statements of a script: split at semicolons that end a line, {@code --} comment lines dropped. */
    static List<String> statements(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("--")) {
                continue;
            }
            if (t.endsWith(";")) {
                current.append(t, 0, t.length() - 1);
                out.add(current.toString().strip());
                current.setLength(0);
            } else {
                current.append(t).append('\n');
            }
        }
        if (!current.toString().isBlank()) {
            out.add(current.toString().strip());
        }
        return out;
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl) + " ...";
    }
}
