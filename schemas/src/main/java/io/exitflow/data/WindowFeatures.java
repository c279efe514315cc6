package io.exitflow.data;

/**
 * Hand-made features of a sensor window, the input of the feature-vector (classification) models:
 * per channel its mean, standard deviation, peak magnitude and crest factor, then the log energy of
 * eight equal frequency bands of its spectrum. 3 channels x 12 = 36 features.
 */
public final class WindowFeatures {
    /** Frequency bands per channel. */
    public static final int BANDS = 8;
    /** Features per channel: 4 statistics plus the bands. */
    public static final int PER_CHANNEL = 4 + BANDS;

    private WindowFeatures() {}

    /** Number of features for a window of {@code channels} channels. */
    public static int count(int channels) {
        return channels * PER_CHANNEL;
    }

    /** Features of a channels-first window of {@code channels} channels and {@code size} samples. */
    public static float[] extract(float[] channelsFirst, int channels, int size) {
        float[] out = new float[count(channels)];
        int bins = size / 2;
        int binsPerBand = Math.max(1, bins / BANDS);
        for (int c = 0; c < channels; c++) {
            int base = c * size;
            double sum = 0;
            double peak = 0;
            for (int t = 0; t < size; t++) {
                double v = channelsFirst[base + t];
                sum += v;
                peak = Math.max(peak, Math.abs(v));
            }
            double mean = sum / size;
            double var = 0;
            double energy = 0;
            for (int t = 0; t < size; t++) {
                double v = channelsFirst[base + t];
                var += (v - mean) * (v - mean);
                energy += v * v;
            }
            double std = Math.sqrt(var / size);
            double rms = Math.sqrt(energy / size);
            int o = c * PER_CHANNEL;
            out[o] = (float) mean;
            out[o + 1] = (float) std;
            out[o + 2] = (float) peak;
            out[o + 3] = (float) (peak / Math.max(rms, 1e-6));
            // Naive DFT: 128 x 64 per channel is cheap and keeps this dependency-free.
            double[] band = new double[BANDS];
            for (int k = 1; k <= bins; k++) {
                double re = 0;
                double im = 0;
                for (int t = 0; t < size; t++) {
                    double angle = 2 * Math.PI * k * t / size;
                    double v = channelsFirst[base + t] - mean;
                    re += v * Math.cos(angle);
                    im -= v * Math.sin(angle);
                }
                int b = Math.min(BANDS - 1, (k - 1) / binsPerBand);
                band[b] += (re * re + im * im) / size;
            }
            for (int b = 0; b < BANDS; b++) {
                out[o + 4 + b] = (float) Math.log1p(band[b]);
            }
        }
        return out;
    }
}
