package io.exitflow.data;

import io.exitflow.schemas.SensorReading;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic, endless 3-axis vibration signal of one rotating machine, with regimes (normal and four
 * faults) that change over time. This is the only generator in the project: the datasets the toolkit
 * trains on and the records the stream simulator sends both come from here.
 *
 * <p>Difficulty varies by design: each regime segment draws a fault severity (a faint fault looks almost
 * normal) and a noise level, the shaft speed drifts, and consecutive segments cross-fade, so windows that
 * straddle a change are ambiguous. Each reading carries its label and a difficulty in [0, 1].
 */
public final class SensorSignalGenerator {
    private static final double DT = SensorClasses.SAMPLE_PERIOD_MS / 1000.0;
    private static final int CROSSFADE_SAMPLES = 64;
    /** Class probabilities for a new segment: normal is the common case. */
    private static final double[] CLASS_WEIGHTS = {0.36, 0.16, 0.16, 0.16, 0.16};

    private final String sensorId;
    private final SplittableRandom random;
    private final double shaftHz;
    private final double resonanceHz;
    private final double[] channelGain = new double[SensorClasses.CHANNELS];
    private final double[] channelPhase = new double[SensorClasses.CHANNELS];
    private final int minSegment;
    private final int maxSegment;

    private long index;
    private final long startMillis;
    private double shaftPhase;
    private double bearingPhase;
    private double bearingEnvelope;
    private Segment current;
    private Segment previous;
    private int segmentPosition;

    /** One regime: a class, how strongly it shows, and how noisy the sensor is meanwhile. */
    private static final class Segment {
        final int classIndex;
        final double amplitude;
        final double noise;
        final int length;
        final double difficulty;

        Segment(int classIndex, double amplitude, double noise, int length, double difficulty) {
            this.classIndex = classIndex;
            this.amplitude = amplitude;
            this.noise = noise;
            this.length = length;
            this.difficulty = difficulty;
        }
    }

    /**
     * @param sensorId id written into every reading
     * @param seed stream seed; the same (sensorId, seed) always gives the same readings
     * @param startMillis event time of the first reading
     */
    public SensorSignalGenerator(String sensorId, long seed, long startMillis) {
        this(sensorId, seed, startMillis, 400, 1500);
    }

    /** As above, with segment lengths (in readings) drawn uniformly from [minSegment, maxSegment]. */
    public SensorSignalGenerator(String sensorId, long seed, long startMillis, int minSegment, int maxSegment) {
        if (minSegment < CROSSFADE_SAMPLES || maxSegment < minSegment) {
            throw new IllegalArgumentException("segment lengths must satisfy " + CROSSFADE_SAMPLES
                    + " <= minSegment <= maxSegment, got " + minSegment + ", " + maxSegment);
        }
        this.sensorId = sensorId;
        this.random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + sensorId.hashCode());
        this.startMillis = startMillis;
        this.minSegment = minSegment;
        this.maxSegment = maxSegment;
        this.shaftHz = 8.0 + 6.0 * random.nextDouble();
        this.resonanceHz = 28.0 + 12.0 * random.nextDouble();
        for (int c = 0; c < SensorClasses.CHANNELS; c++) {
            channelGain[c] = 0.8 + 0.4 * random.nextDouble();
            channelPhase[c] = 2 * Math.PI * random.nextDouble();
        }
        this.current = newSegment();
    }

    /** Id of the sensor this generator simulates. */
    public String sensorId() {
        return sensorId;
    }

    /** The next reading; event times advance by the sampling period. */
    public SensorReading next() {
        if (segmentPosition >= current.length) {
            previous = current;
            current = newSegment();
            segmentPosition = 0;
        }
        // Slow speed drift (+-3 %) makes the same fault look a little different over time.
        double t = index * DT;
        double speed = shaftHz * (1.0 + 0.03 * Math.sin(2 * Math.PI * t / 37.0 + channelPhase[0]));
        shaftPhase += 2 * Math.PI * speed * DT;
        double previousBearingPhase = bearingPhase;
        bearingPhase += 2 * Math.PI * 3.57 * speed * DT;
        if (Math.floor(bearingPhase / (2 * Math.PI)) > Math.floor(previousBearingPhase / (2 * Math.PI))) {
            bearingEnvelope = 0.8 + 0.4 * random.nextDouble(); // a rolling element hits the defect
        } else {
            bearingEnvelope *= Math.exp(-DT / 0.02);
        }

        double[] signal = baseline(t);
        double mix = 1.0;
        double difficulty = current.difficulty;
        int label = current.classIndex;
        if (previous != null && segmentPosition < CROSSFADE_SAMPLES) {
            mix = (segmentPosition + 1) / (double) CROSSFADE_SAMPLES;
            if (mix < 0.5) {
                label = previous.classIndex;
            }
            difficulty = 1.0;
            addFault(signal, previous, t, 1.0 - mix);
        }
        addFault(signal, current, t, mix);
        double noise = previous != null && segmentPosition < CROSSFADE_SAMPLES
                ? mix * current.noise + (1 - mix) * previous.noise
                : current.noise;
        List<Float> values = new ArrayList<>(SensorClasses.CHANNELS);
        for (int c = 0; c < SensorClasses.CHANNELS; c++) {
            values.add((float) (channelGain[c] * signal[c] + noise * gaussian()));
        }
        SensorReading reading = SensorReading.newBuilder()
                .setSensorId(sensorId)
                .setEventTime(java.time.Instant.ofEpochMilli(startMillis + index * SensorClasses.SAMPLE_PERIOD_MS))
                .setValues(values)
                .setLabel(SensorClasses.NAMES.get(label))
                .setSeverity((float) difficulty)
                .build();
        index++;
        segmentPosition++;
        return reading;
    }

    private double[] baseline(double t) {
        double p = shaftPhase;
        return new double[] {
            Math.sin(p) + 0.25 * Math.sin(2 * p + channelPhase[1]),
            Math.cos(p) + 0.20 * Math.sin(2 * p + channelPhase[2]),
            0.3 * Math.sin(p + channelPhase[0])
        };
    }

    private void addFault(double[] s, Segment segment, double t, double weight) {
        double a = segment.amplitude * weight;
        double p = shaftPhase;
        switch (segment.classIndex) {
            case 1: // imbalance: strong once-per-revolution radial vibration
                s[0] += 1.2 * a * Math.sin(p);
                s[1] += 1.2 * a * Math.cos(p);
                break;
            case 2: // misalignment: twice-per-revolution, large axial component
                s[0] += 0.8 * a * Math.sin(2 * p);
                s[1] += 0.5 * a * Math.cos(2 * p);
                s[2] += 1.4 * a * Math.sin(2 * p + 0.7) + 0.5 * a * Math.sin(p);
                break;
            case 3: // bearing defect: impacts ringing a structural resonance
                double ring = bearingEnvelope * Math.sin(2 * Math.PI * resonanceHz * t);
                s[0] += 2.2 * a * ring;
                s[1] += 1.6 * a * ring;
                s[2] += 0.8 * a * ring;
                break;
            case 4: // mechanical looseness: sub- and higher harmonics, clipped response
                s[0] += a * (0.6 * Math.sin(0.5 * p) + 0.5 * Math.sin(3 * p) + 0.35 * Math.sin(4 * p));
                s[1] += a * Math.max(-0.9, Math.min(0.9, 2.5 * Math.sin(p))) * 0.8;
                s[2] += 0.3 * a * Math.sin(5 * p);
                break;
            default: // normal: nothing added
                break;
        }
    }

    private Segment newSegment() {
        int classIndex = drawClass();
        double severity = random.nextDouble();
        double noiseDraw = random.nextDouble();
        double noise = 0.08 + 0.55 * noiseDraw * noiseDraw;
        double amplitude = classIndex == SensorClasses.NORMAL ? 0.0 : 0.12 + 0.9 * severity;
        // Difficulty: faint faults and noisy sensors are hard; a normal segment is hard only when noisy.
        double faint = classIndex == SensorClasses.NORMAL ? 0.0 : 1.0 - severity;
        double difficulty = Math.min(1.0, 0.6 * faint + 0.7 * noiseDraw * noiseDraw);
        int length = minSegment + random.nextInt(maxSegment - minSegment + 1);
        return new Segment(classIndex, amplitude, noise, length, difficulty);
    }

    private int drawClass() {
        double u = random.nextDouble();
        double acc = 0;
        for (int i = 0; i < CLASS_WEIGHTS.length; i++) {
            acc += CLASS_WEIGHTS[i];
            if (u < acc) {
                return i;
            }
        }
        return CLASS_WEIGHTS.length - 1;
    }

    private double gaussian() {
        // Box-Muller on the generator's own random stream keeps the output deterministic.
        double u1 = 1.0 - random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
