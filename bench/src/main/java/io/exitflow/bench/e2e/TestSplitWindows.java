package io.exitflow.bench.e2e;

import io.exitflow.data.SensorWindow;
import io.exitflow.jobs.simulator.SensorFleet;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.schemas.SensorReading;
import java.util.ArrayList;
import java.util.List;

/**
 * The benchmark's events: every window of the dataset's test split (the same sensors, readings and window cut as
 * the files the model was evaluated on), built once per JVM.
 */
final class TestSplitWindows {
    private static List<InferenceRequest> cached;
    private static String cachedKey;

    private TestSplitWindows() {}

    /** Windows of {@code sensors} test sensors, {@code readingsPerSensor} readings each, cut {@code size}/{@code slide}. */
    static synchronized List<InferenceRequest> get(int sensors, int readingsPerSensor, int size, int slide) {
        String key = sensors + "/" + readingsPerSensor + "/" + size + "/" + slide;
        if (key.equals(cachedKey)) {
            return cached;
        }
        SensorFleet fleet =
                new SensorFleet("test", sensors, SensorFleet.DATASET_SEED, SensorFleet.DATASET_START_MILLIS);
        List<List<SensorReading>> bySensor = new ArrayList<>();
        for (int s = 0; s < sensors; s++) {
            bySensor.add(new ArrayList<>(readingsPerSensor));
        }
        for (int i = 0; i < sensors * readingsPerSensor; i++) {
            bySensor.get(i % sensors).add(fleet.next());
        }
        List<InferenceRequest> out = new ArrayList<>();
        for (List<SensorReading> readings : bySensor) {
            for (int from = 0; from + size <= readings.size(); from += slide) {
                SensorWindow w = SensorWindow.of(readings, from, size);
                out.add(new InferenceRequest(
                        w.sensorId() + "@" + w.endTimeMillis(),
                        w.sensorId(),
                        w.endTimeMillis(),
                        w.channelsFirst(),
                        w.label()));
            }
        }
        cached = List.copyOf(out);
        cachedKey = key;
        return cached;
    }
}
