package io.exitflow.bench.kernels;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.exitflow.runtime.bundle.InputNormaliser;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.exit.ScoreRule;
import io.exitflow.runtime.exit.Thresholds;
import io.exitflow.runtime.manifest.Fixtures;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.runtime.onnx.Ort;
import io.exitflow.runtime.onnx.SessionLease;
import io.exitflow.runtime.onnx.SharedSessions;
import io.exitflow.runtime.onnx.StageRunner;
import io.exitflow.runtime.operator.BatchingCascade;
import io.exitflow.runtime.operator.CascadeObserver;
import io.exitflow.runtime.operator.CascadeSettings;
import io.exitflow.runtime.operator.InFlightEvent;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.schemas.Prediction;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One batch of {@code batch} events through every stage of a bundle, three ways:
 * <ul>
 *   <li>{@code rawOrt}: bare ONNX Runtime calls, one per stage, on pre-computed stage inputs, outputs allocated by
 *       ORT and read with {@code getFloatBuffer} (the plain API);</li>
 *   <li>{@code rawOrtPinned}: the same calls with every output pinned to pre-allocated direct buffers, as the runtime's
 *       StageRunner does (the floor: no Java work besides the call);</li>
 *   <li>{@code cascadeFullDepth}: the cascade operator's path ({@link BatchingCascade} with exits off, so it does the
 *       same ONNX work): normalisation, per-event state hand-over, score and class, Prediction records;</li>
 *   <li>{@code cascadeEarlyExit}: the same path with the bundle's default thresholds (what early exit saves).</li>
 * </ul>
 * Scores are per batch; divide by {@code batch} for per-event cost (bench/kernels.sh prints that table). The
 * {@link CpuTime} secondary metrics give the thread's CPU time per batch, which stays meaningful on a busy machine.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xmx1g"})
public class StageKernelBenchmark {
    /** Bundle directory (absolute, or relative to the working directory). */
    @Param({"models/sensor-cnn"})
    public String bundle;

    @Param({"1", "8", "64", "256"})
    public int batch;

    private Manifest manifest;
    private List<SessionLease> leases;
    private List<Map<String, OnnxTensor>> rawInputs;
    private List<Map<String, OnnxTensor>> pinnedOutputs;
    private List<FloatBuffer> rawBuffers;
    private List<StageRunner> fullRunners;
    private List<StageRunner> exitRunners;
    private BatchingCascade fullDepth;
    private BatchingCascade earlyExit;
    private InferenceRequest[] requests;
    private InputNormaliser normaliser;
    private Blackhole sinkHole;

    @Setup(Level.Trial)
    public void setUp(Blackhole bh) throws OrtException {
        sinkHole = bh;
        ModelBundle b = ModelBundle.load(Path.of(bundle));
        manifest = b.manifest();
        normaliser = new InputNormaliser(manifest);
        Fixtures fx = b.fixtures();
        requests = new InferenceRequest[batch];
        for (int i = 0; i < batch; i++) {
            float[] in = fx.inputs()[i % fx.inputs().length];
            requests[i] = new InferenceRequest("e" + i, "k" + (i % 16), i, in, null);
        }
        leases = new ArrayList<>();
        for (int k = 0; k < manifest.numStages(); k++) {
            leases.add(SharedSessions.acquire(b.stageFile(k), Optional.empty(), 1));
        }
        prepareRawInputs();
        fullRunners = runners(b);
        exitRunners = runners(b);
        int last = manifest.numStages() - 1;
        fullDepth = cascade(new CascadeSettings(0, last, false, batch, 1_000, 0, 0, 1_000, true), fullRunners);
        earlyExit = cascade(new CascadeSettings(0, last, true, batch, 1_000, 0, 0, 1_000, true), exitRunners);
    }

    private List<StageRunner> runners(ModelBundle b) {
        List<StageRunner> rs = new ArrayList<>();
        for (int k = 0; k < manifest.numStages(); k++) {
            rs.add(new StageRunner(
                    SharedSessions.acquire(b.stageFile(k), Optional.empty(), 1),
                    manifest,
                    k,
                    ScoreRule.of(manifest.exit().score()),
                    batch));
        }
        return rs;
    }

    private BatchingCascade cascade(CascadeSettings s, List<StageRunner> rs) {
        return new BatchingCascade(
                manifest,
                s,
                rs,
                Thresholds.defaults(manifest),
                new BatchingCascade.Sink() {
                    @Override
                    public void prediction(Prediction p, long eventTime) {
                        sinkHole.consume(p);
                    }

                    @Override
                    public void survivor(InFlightEvent e) {
                        throw new IllegalStateException("a cascade has no survivors");
                    }
                },
                CascadeObserver.NONE);
    }

    /** Every stage's real input for this batch (one full-depth pass), in direct buffers wrapped as tensors once. */
    private void prepareRawInputs() throws OrtException {
        rawInputs = new ArrayList<>();
        rawBuffers = new ArrayList<>();
        pinnedOutputs = new ArrayList<>();
        float[][] state = new float[batch][];
        float[][] carry = new float[batch][];
        for (int i = 0; i < batch; i++) {
            state[i] = normaliser.normalise(requests[i].input);
            carry[i] = new float[manifest.carryDim()];
        }
        for (int k = 0; k < manifest.numStages(); k++) {
            Manifest.Stage s = manifest.stages().get(k);
            long[] shape = new long[s.stateInShape().size() + 1];
            shape[0] = batch;
            for (int d = 0; d < s.stateInShape().size(); d++) {
                shape[d + 1] = s.stateInShape().get(d);
            }
            FloatBuffer sb = direct(batch * state[0].length);
            FloatBuffer cb = direct(batch * carry[0].length);
            for (int i = 0; i < batch; i++) {
                sb.put(state[i]);
                cb.put(carry[i]);
            }
            sb.flip();
            cb.flip();
            rawBuffers.add(sb);
            rawBuffers.add(cb);
            rawInputs.add(Map.of(
                    s.input("state"),
                    OnnxTensor.createTensor(Ort.environment(), sb, shape),
                    s.input("carry"),
                    OnnxTensor.createTensor(Ort.environment(), cb, new long[] {batch, manifest.carryDim()})));
            pinnedOutputs.add(pinnedOutputs(s));
            try (OrtSession.Result r = leases.get(k).session().run(rawInputs.get(k))) {
                if (k < manifest.numStages() - 1) {
                    float[] so = ((OnnxTensor) r.get(s.output("state")).get())
                            .getFloatBuffer()
                            .array();
                    float[] co = ((OnnxTensor) r.get(s.output("carry")).get())
                            .getFloatBuffer()
                            .array();
                    int ss = so.length / batch;
                    int cs = co.length / batch;
                    for (int i = 0; i < batch; i++) {
                        state[i] = java.util.Arrays.copyOfRange(so, i * ss, (i + 1) * ss);
                        carry[i] = java.util.Arrays.copyOfRange(co, i * cs, (i + 1) * cs);
                    }
                }
            }
        }
    }

    /** Direct output buffers of one stage for this batch size, wrapped as tensors once. */
    private Map<String, OnnxTensor> pinnedOutputs(Manifest.Stage s) throws OrtException {
        Map<String, OnnxTensor> m = new java.util.HashMap<>();
        if (s.output("state") != null) {
            long[] shape = new long[s.stateOutShape().size() + 1];
            shape[0] = batch;
            int size = 1;
            for (int d = 0; d < s.stateOutShape().size(); d++) {
                shape[d + 1] = s.stateOutShape().get(d);
                size *= s.stateOutShape().get(d);
            }
            m.put(s.output("state"), OnnxTensor.createTensor(Ort.environment(), direct(batch * size), shape));
        }
        m.put(
                s.output("carry"),
                OnnxTensor.createTensor(
                        Ort.environment(), direct(batch * manifest.carryDim()), new long[] {batch, manifest.carryDim()
                        }));
        m.put(
                s.output("logits"),
                OnnxTensor.createTensor(Ort.environment(), direct(batch * manifest.numClasses()), new long[] {
                    batch, manifest.numClasses()
                }));
        m.put(s.output("score"), OnnxTensor.createTensor(Ort.environment(), direct(batch), new long[] {batch}));
        return m;
    }

    private static FloatBuffer direct(int n) {
        return ByteBuffer.allocateDirect(n * Float.BYTES)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
    }

    /** Bare ORT: one run per stage, outputs copied out as the runtime must, tensors and results closed. */
    @Benchmark
    public void rawOrt(Blackhole bh, CpuTime cpu) throws OrtException {
        long start = CpuTime.now();
        for (int k = 0; k < rawInputs.size(); k++) {
            try (OrtSession.Result r = leases.get(k).session().run(rawInputs.get(k))) {
                for (Map.Entry<String, ai.onnxruntime.OnnxValue> e : r) {
                    bh.consume(((OnnxTensor) e.getValue()).getFloatBuffer());
                }
            }
        }
        cpu.add(start);
    }

    /** Bare ORT with pinned outputs: ORT writes into buffers allocated once; nothing else happens. */
    @Benchmark
    public void rawOrtPinned(Blackhole bh, CpuTime cpu) throws OrtException {
        long start = CpuTime.now();
        for (int k = 0; k < rawInputs.size(); k++) {
            try (OrtSession.Result r = leases.get(k).session().run(rawInputs.get(k), pinnedOutputs.get(k))) {
                bh.consume(r);
            }
        }
        cpu.add(start);
    }

    /** The cascade path, exits off: the same ONNX work as {@link #rawOrt} plus everything the operator adds. */
    @Benchmark
    public void cascadeFullDepth(CpuTime cpu) throws OrtException {
        long start = CpuTime.now();
        admitAll(fullDepth);
        cpu.add(start);
    }

    /** The cascade path with the bundle's default thresholds: later stages run on the survivors only. */
    @Benchmark
    public void cascadeEarlyExit(CpuTime cpu) throws OrtException {
        long start = CpuTime.now();
        admitAll(earlyExit);
        earlyExit.flushAll(0); // survivors of a batch do not fill the next stage's batch: run them now
        cpu.add(start);
    }

    private void admitAll(BatchingCascade c) throws OrtException {
        int k = manifest.numStages();
        for (InferenceRequest r : requests) {
            c.admit(InFlightEvent.start(r, normaliser.normalise(r.input), k, false), 0);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        List<Map<String, OnnxTensor>> all = new ArrayList<>(rawInputs);
        all.addAll(pinnedOutputs);
        for (Map<String, OnnxTensor> m : all) {
            for (OnnxTensor t : m.values()) {
                t.close();
            }
        }
        fullRunners.forEach(StageRunner::close);
        exitRunners.forEach(StageRunner::close);
        leases.forEach(SessionLease::close);
    }
}
