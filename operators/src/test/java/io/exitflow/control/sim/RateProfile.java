package io.exitflow.control.sim;

import java.io.Serializable;
import java.util.Arrays;

/** Piecewise-constant input rate (events/s): a base rate and steps at given times. */
public final class RateProfile implements Serializable {
    private static final long serialVersionUID = 1L;

    private final double[] atSeconds;
    private final double[] rates;

    private RateProfile(double[] atSeconds, double[] rates) {
        this.atSeconds = atSeconds;
        this.rates = rates;
    }

    /** Constant {@code rate}. */
    public static RateProfile constant(double rate) {
        return new RateProfile(new double[] {0}, new double[] {rate});
    }

    /** This profile, then {@code rate} from {@code atSecond} on. */
    public RateProfile thenAt(double atSecond, double rate) {
        if (atSecond <= atSeconds[atSeconds.length - 1])
            throw new IllegalArgumentException("steps must be in time order");
        if (!(rate >= 0)) throw new IllegalArgumentException("rate must be >= 0, got " + rate);
        double[] a = Arrays.copyOf(atSeconds, atSeconds.length + 1);
        double[] r = Arrays.copyOf(rates, rates.length + 1);
        a[a.length - 1] = atSecond;
        r[r.length - 1] = rate;
        return new RateProfile(a, r);
    }

    /** Events per second at time {@code t} (seconds). */
    public double rateAt(double t) {
        int i = 0;
        while (i + 1 < atSeconds.length && t >= atSeconds[i + 1]) i++;
        return rates[i];
    }

    /** Step times, seconds. */
    public double[] stepTimes() {
        return Arrays.copyOfRange(atSeconds, 1, atSeconds.length);
    }
}
