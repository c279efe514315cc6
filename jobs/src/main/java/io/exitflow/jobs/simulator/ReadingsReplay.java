package io.exitflow.jobs.simulator;

import io.exitflow.schemas.SensorReading;
import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * Replays {@link RecordedReadings}: every recording's times are moved so that its first reading is at
 * {@code startMillis} (the steps between its readings stay those of the file), and the recordings are merged in
 * event-time order, ties in file order, so recordings of one sample period go in turns (one reading of each per
 * period) as the generator's sensors do, and event time advances evenly across them. Values and labels are the
 * file's.
 *
 * <p>Once a recording ends the replay goes on with the others and ends after the last, unless it loops: then
 * each recording starts again as a new pass right after its end (one mean period after its last reading), under
 * the sensor id {@code <id>#<pass>} (pass 1, 2, ...), so no window of the job mixes the end of one pass with
 * the start of the next and every pass gets exactly the windows of the first.
 */
public final class ReadingsReplay implements ReadingSource {
    private static final class Cursor {
        final int index;
        final RecordedReadings.Recording recording;
        final long passStride;
        int position;
        long pass;
        long nextTime;

        Cursor(int index, RecordedReadings.Recording recording) {
            this.index = index;
            this.recording = recording;
            this.passStride = recording.spanMillis() + recording.meanPeriodMillis();
        }
    }

    private final RecordedReadings readings;
    private final long startMillis;
    private final boolean loop;
    private final PriorityQueue<Cursor> queue = new PriorityQueue<>(
            Comparator.<Cursor>comparingLong(c -> c.nextTime).thenComparingInt(c -> c.index));

    ReadingsReplay(RecordedReadings readings, long startMillis, boolean loop) {
        this.readings = readings;
        this.startMillis = startMillis;
        this.loop = loop;
        int i = 0;
        for (RecordedReadings.Recording r : readings.recordings()) {
            Cursor c = new Cursor(i++, r);
            c.nextTime = timeOf(c);
            queue.add(c);
        }
    }

    private long timeOf(Cursor c) {
        RecordedReadings.Recording r = c.recording;
        return startMillis + c.pass * c.passStride + (r.time(c.position) - r.time(0));
    }

    /** The sensor id a recording's readings carry in a pass: its own in pass 0, {@code <id>#<pass>} after. */
    public static String sensorId(String recordingId, long pass) {
        return pass == 0 ? recordingId : recordingId + "#" + pass;
    }

    @Override
    public SensorReading next() {
        Cursor c = queue.poll();
        if (c == null) {
            return null;
        }
        SensorReading out = c.recording.reading(
                c.position, sensorId(c.recording.sensorId(), c.pass), c.nextTime, readings.labelTable());
        c.position++;
        if (c.position == c.recording.size()) {
            if (!loop) {
                return out; // this recording is done
            }
            c.position = 0;
            c.pass++;
        }
        c.nextTime = timeOf(c);
        queue.add(c);
        return out;
    }

    /** Whether every recording has been sent (never, when looping). */
    public boolean finished() {
        return queue.isEmpty();
    }
}
