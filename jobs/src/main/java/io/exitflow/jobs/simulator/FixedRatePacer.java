package io.exitflow.jobs.simulator;

import java.time.Duration;

/**
 * How many readings the simulator may send at a moment so that it holds its {@link RateSchedule}: the schedule's
 * count of readings due by then, less those it could not send on time. A sender that falls behind (a slow start, a
 * full producer buffer, a loaded machine) sends at most {@code maxCatchUp} of the schedule's time at once to catch
 * up; what it is further behind is given up, counted as {@link #shortfall()}, and never sent later above the rate.
 * So over any span T the sender sends at most {@code rate x (T + maxCatchUp)} readings, where a sender that sent
 * every reading due would burst at many times the rate after a stall. The clock is the caller's (a pure function of
 * elapsed time and readings sent), so the pacing is tested without timing.
 */
public final class FixedRatePacer {
    private final RateSchedule schedule;
    private final long maxCatchUpMillis;
    private long shortfall;

    /**
     * @param maxCatchUp the most of the schedule's time a sender that fell behind may still send at once; zero holds
     *     the rate to the millisecond
     */
    public FixedRatePacer(RateSchedule schedule, Duration maxCatchUp) {
        if (maxCatchUp.isNegative()) {
            throw new IllegalArgumentException("--max-catch-up must not be negative, got " + maxCatchUp);
        }
        this.schedule = schedule;
        this.maxCatchUpMillis = maxCatchUp.toMillis();
    }

    /**
     * Readings to send now, {@code elapsedMillis} after the start with {@code sent} sent so far (0 when on schedule
     * or ahead). When the sender is more than {@code maxCatchUp} behind, the readings beyond it join the shortfall.
     */
    public long toSend(long elapsedMillis, long sent) {
        double scheduled = schedule.eventsDueAt(elapsedMillis);
        long due = (long) scheduled - shortfall;
        // at most maxCatchUp of the schedule at once, and never less than one reading, so a sender that is due one
        // reading may send it whatever the rate
        long catchUp = Math.max(1, (long)
                Math.ceil(scheduled - schedule.eventsDueAt(Math.max(0, elapsedMillis - maxCatchUpMillis))));
        long behind = due - sent;
        if (behind > catchUp) {
            shortfall += behind - catchUp;
            behind = catchUp;
        }
        return Math.max(0, behind);
    }

    /** Readings the schedule asked for that were not sent on time and were given up so far. */
    public long shortfall() {
        return shortfall;
    }
}
