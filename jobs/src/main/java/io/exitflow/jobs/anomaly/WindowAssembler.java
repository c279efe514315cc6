package io.exitflow.jobs.anomaly;

import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.DeadLetters;
import io.exitflow.runtime.api.InferenceRequest;
import io.exitflow.schemas.SensorReading;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Assembles event-time sliding windows of one sensor's readings in keyed state (keyed by sensor id) and emits
 * each complete window as an {@link InferenceRequest}: input channels-first, event id
 * {@code <sensor>@<end time>}, label of the last reading (the cut of docs/bundle-contract.md and
 * {@link io.exitflow.data.SensorWindow}).
 *
 * <p>Order: readings ahead of the watermark wait in state ({@link PendingReadings}, in time order) until the
 * watermark passes their time, so out-of-order readings within the watermark's bound are used in time order. One
 * event-time timer per sensor, at its earliest waiting reading, does that: when it fires, every waiting reading the
 * watermark has passed is used, in time order. A reading behind the watermark is used if it is within the allowed
 * lateness and newer than the sensor's newest used reading; otherwise (too late, or a duplicate time) it goes to the
 * dead-letter side output with reason {@code late} and is counted ({@code lateReadings}).
 *
 * <p>Gaps: when consecutive used readings are more than {@link WindowSpec#maxGapMillis()} apart, the window
 * restarts at the new reading ({@code windowResets}), so no window spans missing data.
 */
public final class WindowAssembler extends KeyedProcessFunction<String, SensorReading, InferenceRequest> {
    private static final long serialVersionUID = 1L;

    private final WindowSpec spec;
    private final String sourceTopic;
    private final AvroCodec<SensorReading> codec = AvroCodec.of(SensorReading.class);

    private transient ValueState<WindowBuffer> window;
    private transient ValueState<PendingReadings> pending;
    private transient float[] scratch;
    private transient Counter windowsEmitted;
    private transient Counter lateReadings;
    private transient Counter windowResets;

    /**
     * @param spec window size, slide, channels, gap and lateness
     * @param sourceTopic topic the readings came from, written into late readings' dead letters
     */
    public WindowAssembler(WindowSpec spec, String sourceTopic) {
        this.spec = spec;
        this.sourceTopic = sourceTopic;
    }

    @Override
    public void open(OpenContext openContext) {
        window = getRuntimeContext().getState(new ValueStateDescriptor<>("window", WindowBuffer.class));
        pending = getRuntimeContext().getState(new ValueStateDescriptor<>("pending-readings", PendingReadings.class));
        scratch = new float[spec.channels()];
        windowsEmitted = getRuntimeContext().getMetricGroup().counter("windowsEmitted");
        lateReadings = getRuntimeContext().getMetricGroup().counter("lateReadings");
        windowResets = getRuntimeContext().getMetricGroup().counter("windowResets");
    }

    @Override
    public void processElement(SensorReading reading, Context ctx, Collector<InferenceRequest> out) throws Exception {
        long time = reading.getEventTime().toEpochMilli();
        long watermark = ctx.timerService().currentWatermark();
        List<Float> values = reading.getValues();
        for (int c = 0; c < scratch.length; c++) {
            scratch[c] = values.get(c);
        }
        if (time > watermark) {
            PendingReadings queue = pending.value();
            if (queue == null) {
                queue = new PendingReadings(spec.channels());
            } else if (queue.contains(time)) {
                reject(reading, ctx, "late: duplicate event time " + time + " for sensor " + reading.getSensorId());
                return;
            }
            if (queue.add(time, scratch, reading.getLabel())) {
                // The new earliest waiting reading: the sensor's timer must fire when the watermark passes it.
                ctx.timerService().registerEventTimeTimer(time);
            }
            pending.update(queue);
            return;
        }
        // Behind the watermark: every waiting reading of this sensor is newer than the watermark (the timer took
        // the others), so appending now keeps time order as long as the reading is newer than the last one used.
        WindowBuffer state = window.value();
        if (time < watermark - spec.allowedLatenessMillis()) {
            reject(reading, ctx, "late: event time " + time + " is " + (watermark - time)
                    + " ms behind the watermark (allowed lateness " + spec.allowedLatenessMillis() + " ms)");
        } else if (state != null && state.count > 0 && time <= state.lastTime) {
            reject(reading, ctx, "late: event time " + time + " not after the sensor's last used reading "
                    + state.lastTime);
        } else {
            if (state == null) {
                state = new WindowBuffer(spec.size(), spec.channels());
            }
            append(state, ctx.getCurrentKey(), time, scratch, 0, reading.getLabel(), out);
            window.update(state);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<InferenceRequest> out) throws Exception {
        PendingReadings queue = pending.value();
        if (queue == null || queue.isEmpty()) {
            return; // an earlier timer of this sensor took its readings already
        }
        long watermark = Math.max(timestamp, ctx.timerService().currentWatermark());
        if (queue.firstTime() > watermark) {
            return;
        }
        WindowBuffer state = window.value();
        if (state == null) {
            state = new WindowBuffer(spec.size(), spec.channels());
        }
        String sensorId = ctx.getCurrentKey();
        while (!queue.isEmpty() && queue.firstTime() <= watermark) {
            append(state, sensorId, queue.firstTime(), queue.values, queue.firstValuesOffset(), queue.firstLabel(),
                    out);
            queue.removeFirst();
        }
        window.update(state);
        pending.update(queue);
        if (!queue.isEmpty()) {
            ctx.timerService().registerEventTimeTimer(queue.firstTime());
        }
    }

    /** Appends one reading ({@code channels} values from {@code values[offset]}) and emits a window when one is due. */
    private void append(WindowBuffer state, String sensorId, long time, float[] values, int offset, String label,
            Collector<InferenceRequest> out) {
        int size = spec.size();
        int channels = spec.channels();
        if (state.count > 0 && time - state.lastTime > spec.maxGapMillis()) {
            state.count = 0; // a gap: start a fresh window here
            windowResets.inc();
        }
        int slot = (int) (state.count % size);
        System.arraycopy(values, offset, state.ring, slot * channels, channels);
        state.count++;
        state.lastTime = time;
        state.lastLabel = label;
        if (state.count >= size && (state.count - size) % spec.slide() == 0) {
            out.collect(window(sensorId, state));
            windowsEmitted.inc();
        }
    }

    private InferenceRequest window(String sensorId, WindowBuffer state) {
        int size = spec.size();
        int channels = spec.channels();
        float[] input = new float[channels * size];
        long first = state.count - size;
        for (int t = 0; t < size; t++) {
            int slot = (int) ((first + t) % size);
            for (int c = 0; c < channels; c++) {
                input[c * size + t] = state.ring[slot * channels + c];
            }
        }
        return new InferenceRequest(sensorId + "@" + state.lastTime, sensorId, state.lastTime, input, state.lastLabel);
    }

    private void reject(SensorReading reading, Context ctx, String reason) {
        lateReadings.inc();
        ctx.output(DeadLetters.TAG, DeadLetters.of(sourceTopic, -1, -1L, reason, codec.encode(reading),
                reading.getEventTime().toEpochMilli()));
    }
}
