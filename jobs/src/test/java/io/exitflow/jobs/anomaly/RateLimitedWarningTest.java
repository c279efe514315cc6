package io.exitflow.jobs.anomaly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RateLimitedWarningTest {
    @Test
    void logsOncePerIntervalWhileTheConditionLastsAndCountsWhatItHeldBack() {
        AtomicLong nanos = new AtomicLong(0);
        AtomicInteger built = new AtomicInteger();
        RateLimitedWarning w = new RateLimitedWarning(LoggerFactory.getLogger(getClass()), 30_000, nanos::get);
        assertTrue(w.warn(() -> "first " + built.incrementAndGet()));
        for (int i = 0; i < 5; i++) {
            nanos.addAndGet(1_000_000_000L); // 1 s apart: held back
            assertFalse(w.warn(() -> "again " + built.incrementAndGet()));
        }
        assertEquals(1, built.get(), "a held-back message is not even built");
        nanos.addAndGet(30_000_000_000L);
        assertTrue(w.warn(() -> "later"));
        assertEquals(2, w.logged());
        assertTrue(
                w.lastMessage().startsWith("later [5 more warning(s) like this held back in the last 35 s]"),
                w.lastMessage());
    }
}
