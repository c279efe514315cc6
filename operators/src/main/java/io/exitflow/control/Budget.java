package io.exitflow.control;

import java.io.Serializable;
import java.util.OptionalDouble;
import org.apache.flink.annotation.PublicEvolving;

/**
 * What the feedback loop must hold: either a sustained input rate the job must keep up with, or an average cost
 * per event as a fraction of full depth; optionally an accuracy floor that wins over either.
 *
 * <pre>{@code
 * Budget b = Budget.builder().targetRate(5_000).maxAccuracyLoss(0.01).build();   // keep up with >= 5000 ev/s
 * Budget c = Budget.builder().costFraction(0.4).build();                         // 40% of full-depth cost
 * }</pre>
 *
 * <p>Rate budget: the controller plans for {@code max(targetRate, measured input rate)}: it always keeps enough
 * headroom for the target rate and follows the input when it is faster (falling behind is never the plan). Cost
 * budget: the expected cost per event is held at the fraction of the measured full-depth cost whatever the rate.
 */
@PublicEvolving
public final class Budget implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Which quantity the budget states. */
    public enum Kind {
        RATE,
        COST_FRACTION
    }

    private final Kind kind;
    private final double value;
    private final double maxAccuracyLoss;

    private Budget(Kind kind, double value, double maxAccuracyLoss) {
        this.kind = kind;
        this.value = value;
        this.maxAccuracyLoss = maxAccuracyLoss;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Kind kind() {
        return kind;
    }

    /** Events per second the job must keep up with; only for {@link Kind#RATE}. */
    public double targetRate() {
        if (kind != Kind.RATE) throw new IllegalStateException("budget is a cost fraction, not a rate");
        return value;
    }

    /** Expected cost per event as a fraction of full depth, in (0, 1]; only for {@link Kind#COST_FRACTION}. */
    public double costFraction() {
        if (kind != Kind.COST_FRACTION) throw new IllegalStateException("budget is a rate, not a cost fraction");
        return value;
    }

    /**
     * Largest accepted accuracy loss against the full model (0.01 = one point), if a floor is set. When the
     * budget and the floor cannot both hold, the floor wins and the controller raises an alert.
     */
    public OptionalDouble maxAccuracyLoss() {
        return Double.isNaN(maxAccuracyLoss) ? OptionalDouble.empty() : OptionalDouble.of(maxAccuracyLoss);
    }

    @Override
    public String toString() {
        String base = kind == Kind.RATE ? "rate>=" + value + "ev/s" : "cost=" + value + "xfull";
        return maxAccuracyLoss().isPresent() ? base + ",maxLoss=" + maxAccuracyLoss : base;
    }

    /** Builder: exactly one of {@link #targetRate} or {@link #costFraction}. */
    public static final class Builder {
        private Kind kind;
        private double value = Double.NaN;
        private double maxAccuracyLoss = Double.NaN;

        private Builder() {}

        /** The job must keep up with at least this many events per second. */
        public Builder targetRate(double eventsPerSecond) {
            if (!(eventsPerSecond > 0) || Double.isInfinite(eventsPerSecond)) {
                throw new IllegalArgumentException(
                        "targetRate must be a positive finite events/s, got " + eventsPerSecond);
            }
            setKind(Kind.RATE);
            this.value = eventsPerSecond;
            return this;
        }

        /** Average cost per event as a fraction of running every stage, in (0, 1]. */
        public Builder costFraction(double fraction) {
            if (!(fraction > 0 && fraction <= 1)) {
                throw new IllegalArgumentException("costFraction must be in (0, 1], got " + fraction);
            }
            setKind(Kind.COST_FRACTION);
            this.value = fraction;
            return this;
        }

        /** Accuracy floor: at most this loss against the full model, in [0, 1) (0.005 = half a point). */
        public Builder maxAccuracyLoss(double loss) {
            if (!(loss >= 0 && loss < 1)) {
                throw new IllegalArgumentException("maxAccuracyLoss must be in [0, 1), got " + loss);
            }
            this.maxAccuracyLoss = loss;
            return this;
        }

        private void setKind(Kind k) {
            if (kind != null && kind != k) {
                throw new IllegalArgumentException("a budget is either a targetRate or a costFraction, not both");
            }
            kind = k;
        }

        public Budget build() {
            if (kind == null) {
                throw new IllegalArgumentException("budget needs targetRate(events/s) or costFraction(0..1]");
            }
            return new Budget(kind, value, maxAccuracyLoss);
        }
    }
}
