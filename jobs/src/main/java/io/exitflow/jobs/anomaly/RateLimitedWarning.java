package io.exitflow.jobs.anomaly;

import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * A WARN line of one kind at most once per interval (per operator instance): a condition that lasts keeps showing
 * in the log without flooding it; the warnings held back in between are counted in the next line. The message is
 * built only when it is logged.
 */
final class RateLimitedWarning {
    private final Logger log;
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private boolean loggedOnce;
    private long lastLoggedNanos;
    private long heldBack;
    private long logged;
    private String lastMessage;

    RateLimitedWarning(Logger log, long intervalMillis) {
        this(log, intervalMillis, System::nanoTime);
    }

    /** @param nanoClock monotonic time in ns (tests pass their own) */
    RateLimitedWarning(Logger log, long intervalMillis, LongSupplier nanoClock) {
        this.log = log;
        this.intervalNanos = intervalMillis * 1_000_000L;
        this.nanoClock = nanoClock;
    }

    /** Logs the message unless one was logged less than an interval ago; returns whether it logged. */
    boolean warn(Supplier<String> message) {
        long now = nanoClock.getAsLong();
        if (loggedOnce && now - lastLoggedNanos < intervalNanos) {
            heldBack++;
            return false;
        }
        String text = message.get();
        if (heldBack > 0) {
            text += " [" + heldBack + " more warning(s) like this held back in the last "
                    + (now - lastLoggedNanos) / 1_000_000_000L + " s]";
        }
        log.warn(text);
        loggedOnce = true;
        lastLoggedNanos = now;
        heldBack = 0;
        logged++;
        lastMessage = text;
        return true;
    }

    /** How many lines were logged. */
    long logged() {
        return logged;
    }

    /** The last line logged (null before the first). */
    String lastMessage() {
        return lastMessage;
    }
}
