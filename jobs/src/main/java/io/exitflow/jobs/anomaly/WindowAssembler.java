package io.exitflow.jobs.anomaly;

import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.DeadLetters;
import io.exitflow.runtime.api.InferenceRequest;
import io.exitflow.schemas.SensorReading;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Assembles event-time sliding windows of one sensor's readings in keyed state (keyed by sensor id) and emits
 * each complete window as an {@link InferenceRequest}: input channels-first, event id
 * {@code <sensor>@<end time>}, label of the last reading (the cut of docs/bundle-contract.md and
 * {@link io.exitflow.data.SensorWindow}).
 *
 * <p>Order: readings ahead of the watermark wait in state until the watermark passes their time (an event-time
 * timer), so out-of-order readings within the watermark's bound are used in time order. A reading behind the
 * watermark is used if it is within the allowed lateness and newer than the sensor's newest used reading;
 * otherwise (too late, or a duplicate time) it goes to the dead-letter side output with reason {@code late}
 * and is counted ({@code lateReadings}).
 *
 * <p>Gaps: when consecutive used readings are more than {@link WindowSpec#maxGapMillis()} apart, the window
 * restarts at the new reading ({@code windowResets}), so no window spans missing data.
 */
public final class WindowAssembler extends KeyedProcessFunction<String, SensorReading, InferenceRequest> {
    private static final long serialVersionUID = 1L;

    private final WindowSpec spec;
    private final String sourceTopic;
    private final AvroCodec<SensorReading> codec = AvroCodec.of(SensorReading.class);

    private transient ValueState<WindowBuffer> buffer;
    private transient MapState<Long, PendingReading> pending;
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
        buffer = getRuntimeContext().getState(new ValueStateDescriptor<>("window", WindowBuffer.class));
        pending = getRuntimeContext().getMapState(new MapStateDescriptor<>("pending", Types.LONG,
                TypeInformation.of(PendingReading.class)));
        windowsEmitted = getRuntimeContext().getMetricGroup().counter("windowsEmitted");
        lateReadings = getRuntimeContext().getMetricGroup().counter("lateReadings");
        windowResets = getRuntimeContext().getMetricGroup().counter("windowResets");
    }

    @Override
    public void processElement(SensorReading reading, Context ctx, Collector<InferenceRequest> out) throws Exception {
        long time = reading.getEventTime().toEpochMilli();
        long watermark = ctx.timerService().currentWatermark();
        PendingReading values = new PendingReading(toArray(reading.getValues()), reading.getLabel());
        if (time > watermark) {
            if (pending.contains(time)) {
                reject(reading, ctx, "late: duplicate event time " + time + " for sensor " + reading.getSensorId());
                return;
            }
            pending.put(time, values);
            ctx.timerService().registerEventTimeTimer(time);
            return;
        }
        // Behind the watermark: every pending reading of this sensor is newer than the watermark, so appending now
        // keeps time order as long as the reading is newer than the last one used.
        WindowBuffer state = buffer.value();
        if (time < watermark - spec.allowedLatenessMillis()) {
            reject(reading, ctx, "late: event time " + time + " is " + (watermark - time)
                    + " ms behind the watermark (allowed lateness " + spec.allowedLatenessMillis() + " ms)");
        } else if (state != null && state.count > 0 && time <= state.lastTime) {
            reject(reading, ctx, "late: event time " + time + " not after the sensor's last used reading "
                    + state.lastTime);
        } else {
            append(ctx.getCurrentKey(), time, values, out);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<InferenceRequest> out) throws Exception {
        PendingReading values = pending.get(timestamp);
        if (values == null) {
            return;
        }
        pending.remove(timestamp);
        append(ctx.getCurrentKey(), timestamp, values, out);
    }

    private void append(String sensorId, long time, PendingReading reading, Collector<InferenceRequest> out)
            throws Exception {
        int size = spec.size();
        int channels = spec.channels();
        WindowBuffer state = buffer.value();
        if (state == null) {
            state = new WindowBuffer(size, channels);
        } else if (state.count > 0 && time - state.lastTime > spec.maxGapMillis()) {
            state.count = 0; // a gap: start a fresh window here
            windowResets.inc();
        }
        int slot = (int) (state.count % size);
        System.arraycopy(reading.values, 0, state.ring, slot * channels, channels);
        state.count++;
        state.lastTime = time;
        state.lastLabel = reading.label;
        if (state.count >= size && (state.count - size) % spec.slide() == 0) {
            out.collect(window(sensorId, state));
            windowsEmitted.inc();
        }
        buffer.update(state);
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

    private float[] toArray(List<Float> values) {
        float[] out = new float[spec.channels()];
        for (int c = 0; c < out.length; c++) {
            out[c] = values.get(c);
        }
        return out;
    }
}
