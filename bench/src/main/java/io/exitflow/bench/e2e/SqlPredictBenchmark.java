package io.exitflow.bench.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.exitflow.bench.BenchArgs;
import io.exitflow.runtime.api.EarlyExit;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.runtime.record.InferenceRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * The same events (test-split windows, cycled, in memory) through three ways of serving one bundle, in one run:
 * <ul>
 *   <li>{@code SQL_CASCADE}: {@code ML_PREDICT} with the {@code exitflow} provider (async function batching into
 *       the cascade; {@code max-concurrent-operations} = {@code --capacity}, unordered output);</li>
 *   <li>{@code SQL_ROW_CASCADE}: the same provider with {@code 'async' = 'false'} (the cascade one row at a time);</li>
 *   <li>{@code DATASTREAM_CASCADE}: the DataStream cascade ({@code EarlyExit} CASCADE), as the jobs run it;</li>
 *   <li>{@code SQL_ROW_FULL_GRAPH}: {@code ML_PREDICT} with a per-row synchronous predict function on the bundle's
 *       whole-model graph ({@link RowOnnxModelProviderFactory}), what a plain ONNX provider would do.</li>
 * </ul>
 * events/s and process CPU per event are measured at the sink after a 10% warm-up, in this JVM (MiniCluster in
 * process), parallelism {@code --parallelism}.
 *
 * <pre>bench/sql.sh [--events 100000] [--parallelism 1] [--capacity 256] [--max-batch-size 64]
 *             [--output-mode allow_unordered|ordered] [--idle-flush '1 ms'|0]
 *             [--modes SQL_CASCADE,SQL_ROW_CASCADE,DATASTREAM_CASCADE,SQL_ROW_FULL_GRAPH] [--bundle models/sensor-cnn]</pre>
 */
public final class SqlPredictBenchmark {
    private static final int SENSORS = io.exitflow.data.DatasetWriter.TEST_SENSORS;
    private static final int READINGS_PER_SENSOR = io.exitflow.data.DatasetWriter.READINGS_PER_SENSOR;

    private static final ConfigOption<String> BUNDLE = ConfigOptions.key("bench.bundle")
            .stringType()
            .defaultValue("models/sensor-cnn")
            .withDescription("Model bundle directory (needs a full_graph).");
    private static final ConfigOption<Long> EVENTS = ConfigOptions.key("bench.events")
            .longType()
            .defaultValue(100_000L)
            .withDescription("Events per mode (rounded up to whole passes over the windows).");
    private static final ConfigOption<Integer> PARALLELISM = ConfigOptions.key("bench.parallelism")
            .intType()
            .defaultValue(1)
            .withDescription("Parallelism of the local Flink job.");
    private static final ConfigOption<Integer> CAPACITY = ConfigOptions.key("bench.capacity")
            .intType()
            .defaultValue(256)
            .withDescription("ML_PREDICT max-concurrent-operations for SQL_CASCADE.");
    private static final ConfigOption<Integer> MAX_BATCH = ConfigOptions.key("bench.max-batch-size")
            .intType()
            .defaultValue(64)
            .withDescription("Rows per ONNX call of a stage (SQL_CASCADE, DATASTREAM_CASCADE).");
    private static final ConfigOption<String> OUTPUT_MODE = ConfigOptions.key("bench.output-mode")
            .stringType()
            .defaultValue("allow_unordered")
            .withDescription("ML_PREDICT output-mode for SQL_CASCADE.");
    private static final ConfigOption<String> IDLE_FLUSH = ConfigOptions.key("bench.idle-flush")
            .stringType()
            .defaultValue("")
            .withDescription("The model's 'idle-flush' for SQL_CASCADE (empty: the provider's default).");
    private static final ConfigOption<String> MODES = ConfigOptions.key("bench.modes")
            .stringType()
            .defaultValue("SQL_CASCADE,SQL_ROW_CASCADE,DATASTREAM_CASCADE,SQL_ROW_FULL_GRAPH")
            .withDescription("Modes to run, comma-separated.");
    private static final ConfigOption<String> OUT = ConfigOptions.key("bench.out")
            .stringType()
            .defaultValue("bench/target-sql/sql.json")
            .withDescription("Where the results go (JSON).");

    private SqlPredictBenchmark() {}

    public static void main(String[] args) throws Exception {
        Optional<BenchArgs> a = BenchArgs.parse(
                args,
                "bench/sql.sh [--name value ...]",
                List.of(BUNDLE, EVENTS, PARALLELISM, CAPACITY, MAX_BATCH, OUTPUT_MODE, IDLE_FLUSH, MODES, OUT));
        if (a.isEmpty()) {
            return;
        }
        Path bundleDir = Path.of(a.get().get(BUNDLE)).toAbsolutePath();
        int parallelism = a.get().get(PARALLELISM);
        int capacity = a.get().get(CAPACITY);
        int maxBatch = a.get().get(MAX_BATCH);
        String outputMode = a.get().get(OUTPUT_MODE);
        String idleFlush = a.get().get(IDLE_FLUSH);
        Manifest manifest = ModelBundle.load(bundleDir).manifest();
        Manifest.Window w = manifest.input().window();
        List<InferenceRequest> windows = TestSplitWindows.get(SENSORS, READINGS_PER_SENSOR, w.size(), w.slide());
        long events = Math.max(1, (a.get().get(EVENTS) + windows.size() - 1) / windows.size()) * windows.size();
        System.out.printf(
                Locale.ROOT,
                "%d test-split windows cycled to %d events; bundle %s %s; parallelism %d; " + "%d cores%n",
                windows.size(),
                events,
                manifest.modelId(),
                manifest.modelVersion(),
                parallelism,
                Runtime.getRuntime().availableProcessors());

        List<Map<String, Object>> rows = new ArrayList<>();
        for (String m : a.get().get(MODES).split(",")) {
            String mode = m.trim();
            long passes = events / windows.size();
            long warmup = Math.max(1, passes / 10) * windows.size();
            RunRecorder r = RunRecorder.start(events, warmup, manifest.numStages());
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.createLocalEnvironment(parallelism, new Configuration());
            DataStream<InferenceRequest> requests = env.fromSequence(0, events - 1)
                    .map(
                            new EndToEndBenchmark.WindowAt(w.size(), w.slide()),
                            TypeInformation.of(InferenceRequest.class))
                    .name("test-split windows");
            if (mode.equals("DATASTREAM_CASCADE")) {
                EarlyExit.builder()
                        .bundlePath(bundleDir.toString())
                        .mode(EarlyExit.Mode.CASCADE)
                        .maxBatchSize(maxBatch)
                        .fullDepthSampleRate(0)
                        .name("bench-cascade")
                        .build()
                        .apply(requests, null)
                        .predictions()
                        .process(new EndToEndBenchmark.RecordPredictions())
                        .setParallelism(1)
                        .sinkTo(new DiscardingSink<>())
                        .setParallelism(1);
            } else {
                sql(env, requests, mode, bundleDir.toString(), capacity, maxBatch, outputMode, idleFlush);
            }
            env.execute("sql bench " + mode);
            if (r.arrivals != events) {
                throw new IllegalStateException(mode + ": " + r.arrivals + " predictions for " + events + " events");
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("mode", mode);
            row.put("events_per_s", Math.round(r.eventsPerSecond()));
            row.put("cpu_us_per_event", Math.round(r.cpuMicrosPerEvent() * 100) / 100.0);
            row.put("accuracy", Math.round(r.accuracy() * 10_000) / 10_000.0);
            row.put("exits", r.exits.clone());
            row.put("measured_events", r.measured());
            row.put("seconds", Math.round(r.seconds() * 100) / 100.0);
            rows.add(row);
            System.out.printf(
                    Locale.ROOT,
                    "%-20s %9.0f ev/s  %8.2f us CPU/ev  acc %.4f  exits %s%n",
                    mode,
                    r.eventsPerSecond(),
                    r.cpuMicrosPerEvent(),
                    r.accuracy(),
                    java.util.Arrays.toString(r.exits));
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("date", Instant.now().toString());
        report.put("cores", Runtime.getRuntime().availableProcessors());
        report.put("bundle", manifest.modelId() + " " + manifest.modelVersion());
        report.put("events_per_run", events);
        report.put("parallelism", parallelism);
        report.put("capacity", capacity);
        report.put("max_batch_size", maxBatch);
        report.put("output_mode", outputMode);
        report.put("idle_flush", idleFlush.isEmpty() ? "default" : idleFlush);
        report.put("runs", rows);
        Path out = Path.of(a.get().get(OUT));
        Files.createDirectories(out.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), report);
        System.out.println("written " + out);
    }

    /** The events as a table, through ML_PREDICT of the mode's model, to the recorder. */
    private static void sql(
            StreamExecutionEnvironment env,
            DataStream<InferenceRequest> requests,
            String mode,
            String bundle,
            int capacity,
            int maxBatch,
            String outputMode,
            String idleFlush) {
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(env, EnvironmentSettings.inStreamingMode());
        DataStream<Row> rows = requests.map(
                q -> Row.of(q.eventId, q.label, q.input),
                Types.ROW_NAMED(
                        new String[] {"id", "label", "features"},
                        Types.STRING,
                        Types.STRING,
                        Types.PRIMITIVE_ARRAY(Types.FLOAT)));
        tEnv.createTemporaryView("events", tEnv.fromDataStream(rows));
        String output = "OUTPUT (predicted_class STRING, exit_stage INT)";
        String config;
        switch (mode) {
            case "SQL_CASCADE", "SQL_ROW_CASCADE" -> {
                tEnv.executeSql("CREATE TEMPORARY MODEL m INPUT (features ARRAY<FLOAT>) " + output + " WITH ("
                        + "'provider' = 'exitflow', 'bundle' = '" + bundle + "', 'max-batch-size' = '" + maxBatch
                        + "', 'max-wait' = '20 ms'"
                        + (idleFlush.isEmpty() ? "" : ", 'idle-flush' = '" + idleFlush + "'")
                        + ")");
                config = mode.equals("SQL_CASCADE")
                        ? "MAP['max-concurrent-operations', '" + capacity + "', 'output-mode', '" + outputMode + "']"
                        : "MAP['async', 'false']";
            }
            case "SQL_ROW_FULL_GRAPH" -> {
                tEnv.executeSql("CREATE TEMPORARY MODEL m INPUT (features ARRAY<FLOAT>) " + output + " WITH ("
                        + "'provider' = 'onnx-row-bench', 'bundle' = '" + bundle + "')");
                config = "MAP['async', 'false']";
            }
            default -> throw new IllegalArgumentException("unknown mode " + mode);
        }
        Table predicted = tEnv.sqlQuery("SELECT label, predicted_class, exit_stage FROM ML_PREDICT(TABLE events, "
                + "MODEL m, DESCRIPTOR(features), " + config + ")");
        tEnv.toDataStream(predicted)
                .process(new RecordRows())
                .setParallelism(1)
                .sinkTo(new DiscardingSink<>())
                .setParallelism(1);
    }

    /** Feeds the current {@link RunRecorder} from ML_PREDICT's rows (label, predicted_class, exit_stage). */
    static final class RecordRows extends ProcessFunction<Row, Row> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(Row row, Context ctx, Collector<Row> out) {
            String label = (String) row.getField(0);
            String predicted = (String) row.getField(1);
            RunRecorder.current().record((Integer) row.getField(2), label != null, predicted.equals(label), 0.0, 0);
        }
    }
}
