package io.exitflow.jobs.anomaly;

import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.DeadLetters;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.schemas.SensorReading;
import java.util.List;
import java.util.Locale;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * dead-letter side output with reason {@code late}, its Kafka partition and offset, and is counted
 * ({@code lateReadings}).
 *
 * <p>Bounded wait: at most {@link WindowSpec#maxWaitingReadings()} readings of one sensor wait. When one more
 * arrives, the earliest waiting one is used at once, without waiting for the watermark (counted:
 * {@code readingsReleasedEarly}; a rate-limited WARN names the sensor and the setting): the sensor then moves on by
 * its own clock, still in time order within what waits, and a reading that arrives older than one used so goes to
 * the dead-letter topic as late, the reason naming the cap. This happens when the watermark lags a sensor by more
 * than the cap's span: one input partition read far ahead of another (a replay, a backlog; the source's watermark
 * alignment keeps that small), or a sensor clock ahead of the others. Memory stays bounded whatever the input.
 * Gauge {@code waitingReadingsHighWater}: the most readings one sensor of this subtask had waiting.
 *
 * <p>Gaps: when consecutive used readings are more than {@link WindowSpec#maxGapMillis()} apart, the window
 * restarts at the new reading ({@code windowResets}), so no window spans missing data; the readings a restart
 * drops before any window used them are counted ({@code readingsInNoWindow}). A sensor that has had three windows'
 * worth of readings since its last window (its window keeps restarting: readings further apart than the max gap,
 * often a bundle whose sample period is not the sensor's) is counted once per such stretch
 * ({@code sensorsWithoutWindows}) and shown by a rate-limited WARN with the sensor, the steps seen and the setting to
 * change, repeated while it lasts.
 */
public final class WindowAssembler extends KeyedProcessFunction<String, PositionedReading, InferenceRequest> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(WindowAssembler.class);
    /** At most one WARN line of each kind per this interval per subtask. */
    static final long WARN_INTERVAL_MS = 30_000;

    private final WindowSpec spec;
    private final String sourceTopic;
    private final AvroCodec<SensorReading> codec = AvroCodec.of(SensorReading.class);

    private transient ValueState<WindowBuffer> window;
    private transient ValueState<PendingReadings> pending;
    private transient float[] scratch;
    private transient Counter windowsEmitted;
    private transient Counter lateReadings;
    private transient Counter windowResets;
    private transient Counter readingsInNoWindow;
    private transient Counter sensorsWithoutWindows;
    private transient Counter readingsReleasedEarly;
    private transient int waitingHighWater;
    private transient RateLimitedWarning noWindowWarning;
    private transient RateLimitedWarning releasedEarlyWarning;

    /**
     * @param spec window size, slide, channels, gap, lateness and the cap on waiting readings
     * @param sourceTopic topic the readings came from (the job's one input topic), written into dead letters
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
        var metrics = getRuntimeContext().getMetricGroup();
        windowsEmitted = metrics.counter("windowsEmitted");
        lateReadings = metrics.counter("lateReadings");
        windowResets = metrics.counter("windowResets");
        readingsInNoWindow = metrics.counter("readingsInNoWindow");
        sensorsWithoutWindows = metrics.counter("sensorsWithoutWindows");
        readingsReleasedEarly = metrics.counter("readingsReleasedEarly");
        metrics.gauge("waitingReadingsHighWater", (Gauge<Integer>) () -> waitingHighWater);
        noWindowWarning = new RateLimitedWarning(LOG, WARN_INTERVAL_MS);
        releasedEarlyWarning = new RateLimitedWarning(LOG, WARN_INTERVAL_MS);
    }

    @Override
    public void processElement(PositionedReading positioned, Context ctx, Collector<InferenceRequest> out)
            throws Exception {
        SensorReading reading = positioned.reading();
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
                reject(positioned, ctx, "late: duplicate event time " + time + " for sensor " + reading.getSensorId());
                return;
            } else if (time <= queue.usedAheadUpTo) {
                reject(
                        positioned,
                        ctx,
                        "late: event time " + time + " not after the sensor's last used reading " + queue.usedAheadUpTo
                                + ", " + usedAheadNote());
                return;
            }
            if (queue.add(time, scratch, reading.getLabel())) {
                // The new earliest waiting reading: the sensor's timer must fire when the watermark passes it.
                ctx.timerService().registerEventTimeTimer(time);
            }
            if (queue.size() > spec.maxWaitingReadings()) {
                releaseEarly(queue, ctx, watermark, out);
            }
            waitingHighWater = Math.max(waitingHighWater, queue.size());
            pending.update(queue);
            return;
        }
        // Behind the watermark: every waiting reading of this sensor is newer than the watermark (the timer took
        // the others), so appending now keeps time order as long as the reading is newer than the last one used.
        WindowBuffer state = window.value();
        if (time < watermark - spec.allowedLatenessMillis()) {
            reject(
                    positioned,
                    ctx,
                    "late: event time " + time + " is " + (watermark - time)
                            + " ms behind the watermark (allowed lateness " + spec.allowedLatenessMillis() + " ms)");
        } else if (state != null && state.count > 0 && time <= state.lastTime) {
            reject(
                    positioned,
                    ctx,
                    "late: event time " + time + " not after the sensor's last used reading " + state.lastTime
                            + (state.lastTime > watermark ? ", " + usedAheadNote() : ""));
        } else {
            if (state == null) {
                state = new WindowBuffer(spec.size(), spec.channels());
            }
            append(state, ctx.getCurrentKey(), time, scratch, 0, reading.getLabel(), out);
            window.update(state);
        }
    }

    /** Uses the earliest waiting readings until no more than the cap wait (the watermark has not passed them). */
    private void releaseEarly(PendingReadings queue, Context ctx, long watermark, Collector<InferenceRequest> out)
            throws Exception {
        WindowBuffer state = window.value();
        if (state == null) {
            state = new WindowBuffer(spec.size(), spec.channels());
        }
        String sensorId = ctx.getCurrentKey();
        long newest = queue.lastTime();
        while (queue.size() > spec.maxWaitingReadings()) {
            long t = queue.firstTime();
            append(state, sensorId, t, queue.values, queue.firstValuesOffset(), queue.firstLabel(), out);
            queue.usedAheadUpTo = t;
            queue.removeFirst();
            readingsReleasedEarly.inc();
        }
        window.update(state);
        releasedEarlyWarning.warn(() -> String.format(
                Locale.ROOT,
                "sensor %s: more than %d readings wait for the watermark (%s): using the earliest without waiting "
                        + "(--max-waiting-readings %d). Its readings that arrive older than one used so go to the "
                        + "dead-letter topic as late. An input partition read far ahead of another (a replay, a "
                        + "backlog) or a sensor clock ahead of the others does this; --watermark-max-drift-ms keeps "
                        + "partitions together, --max-waiting-readings lets more wait.",
                sensorId,
                spec.maxWaitingReadings(),
                watermark == Long.MIN_VALUE
                        ? "none yet"
                        : (newest - watermark) + " ms behind the sensor's newest reading",
                spec.maxWaitingReadings()));
    }

    private String usedAheadNote() {
        return "used before the watermark reached it because more than " + spec.maxWaitingReadings()
                + " readings of the sensor waited (--max-waiting-readings)";
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<InferenceRequest> out) throws Exception {
        PendingReadings queue = pending.value();
        if (queue == null || queue.isEmpty()) {
            return; // an earlier timer of this sensor took its readings already
        }
        long watermark = Math.max(timestamp, ctx.timerService().currentWatermark());
        if (queue.firstTime() > watermark) {
            // The readings this timer was set for were used already (the cap released them early): wait for the
            // new earliest one. Timers are unique per sensor and time, so this never doubles one.
            ctx.timerService().registerEventTimeTimer(queue.firstTime());
            return;
        }
        WindowBuffer state = window.value();
        if (state == null) {
            state = new WindowBuffer(spec.size(), spec.channels());
        }
        String sensorId = ctx.getCurrentKey();
        while (!queue.isEmpty() && queue.firstTime() <= watermark) {
            append(
                    state,
                    sensorId,
                    queue.firstTime(),
                    queue.values,
                    queue.firstValuesOffset(),
                    queue.firstLabel(),
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
    private void append(
            WindowBuffer state,
            String sensorId,
            long time,
            float[] values,
            int offset,
            String label,
            Collector<InferenceRequest> out) {
        int size = spec.size();
        int channels = spec.channels();
        if (state.count > 0 && time - state.lastTime > spec.maxGapMillis()) {
            long step = time - state.lastTime;
            // the readings after the last window (all of them when there was none) are used in no window
            long unused = state.count < size ? state.count : (state.count - size) % spec.slide();
            readingsInNoWindow.inc(unused);
            state.count = 0; // a gap: start a fresh window here
            windowResets.inc();
            state.resetsSinceWindow++;
            state.largestGapSinceWindow = Math.max(state.largestGapSinceWindow, step);
            state.lastGap = step;
        }
        int slot = (int) (state.count % size);
        System.arraycopy(values, offset, state.ring, slot * channels, channels);
        state.count++;
        state.lastTime = time;
        state.lastLabel = label;
        if (state.count >= size && (state.count - size) % spec.slide() == 0) {
            out.collect(window(sensorId, state));
            windowsEmitted.inc();
            state.sinceWindow = 0;
            state.resetsSinceWindow = 0;
            state.largestGapSinceWindow = 0;
            state.withoutWindows = false;
            return;
        }
        state.sinceWindow++;
        long stretch = noWindowReadings();
        if (state.sinceWindow % stretch == 0) {
            // Without restarts a sensor makes a window every max(size, slide) readings: this one keeps restarting.
            if (!state.withoutWindows) {
                state.withoutWindows = true;
                sensorsWithoutWindows.inc();
            }
            noWindowWarning.warn(() -> noWindowMessage(sensorId, state));
        }
    }

    /** Readings without a window that show a sensor making none: three windows' worth. */
    long noWindowReadings() {
        return 3L * Math.max(spec.size(), spec.slide());
    }

    private String noWindowMessage(String sensorId, WindowBuffer state) {
        String period = spec.samplePeriodMs() > 0
                ? String.format(Locale.ROOT, "the bundle's sample period is %s ms, ", formatMs(spec.samplePeriodMs()))
                : "";
        return String.format(
                Locale.ROOT,
                "sensor %s: %d readings since its last window and none made a window: its window restarted %d "
                        + "times on steps of up to %d ms (last %d ms) between readings, above --max-gap-ms %d ms "
                        + "(%sthe default max gap is 3 x that period + jitter). If the sensor samples slower than "
                        + "that, set --max-gap-ms above its real step, or export the bundle with the sensor's real "
                        + "sample period. Counted in the metrics sensorsWithoutWindows and readingsInNoWindow.",
                sensorId,
                state.sinceWindow,
                state.resetsSinceWindow,
                state.largestGapSinceWindow,
                state.lastGap,
                spec.maxGapMillis(),
                period);
    }

    private static String formatMs(double ms) {
        return ms == Math.rint(ms) ? Long.toString((long) ms) : Double.toString(ms);
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

    private void reject(PositionedReading positioned, Context ctx, String reason) {
        lateReadings.inc();
        SensorReading reading = positioned.reading();
        ctx.output(
                DeadLetters.TAG,
                DeadLetters.of(
                        sourceTopic,
                        positioned.partition(),
                        positioned.offset(),
                        reason,
                        codec.encode(reading),
                        reading.getEventTime().toEpochMilli()));
    }

    /** Lines of the "makes no windows" warning (tests). */
    RateLimitedWarning noWindowWarning() {
        return noWindowWarning;
    }

    /** Lines of the "released early" warning (tests). */
    RateLimitedWarning releasedEarlyWarning() {
        return releasedEarlyWarning;
    }

    /** Counters by name (tests; the metric group of a test harness keeps none). */
    long count(String metric) {
        return switch (metric) {
            case "windowsEmitted" -> windowsEmitted.getCount();
            case "lateReadings" -> lateReadings.getCount();
            case "windowResets" -> windowResets.getCount();
            case "readingsInNoWindow" -> readingsInNoWindow.getCount();
            case "sensorsWithoutWindows" -> sensorsWithoutWindows.getCount();
            case "readingsReleasedEarly" -> readingsReleasedEarly.getCount();
            case "waitingReadingsHighWater" -> waitingHighWater;
            default -> throw new IllegalArgumentException(metric);
        };
    }
}
