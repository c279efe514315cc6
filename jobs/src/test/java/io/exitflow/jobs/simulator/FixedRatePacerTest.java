package io.exitflow.jobs.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The simulator's pacing (issue 13 item 5) on a fake clock: a sender that falls behind catches up by at most
 * {@code maxCatchUp} of the schedule and gives up the rest, so it never bursts above the rate, where sending every
 * reading due (the simulator before) sent a stall's whole backlog at once.
 */
class FixedRatePacerTest {
    @Test
    void onScheduleItSendsWhatIsDueAndGivesNothingUp() {
        FixedRatePacer p = new FixedRatePacer(RateSchedule.parse("1000"), Duration.ofMillis(20));
        long sent = 0;
        assertEquals(0, p.toSend(0, sent));
        for (long t = 1; t <= 5_000; t++) {
            sent += p.toSend(t, sent);
            assertEquals(t, sent, "1000/s is one reading per ms");
        }
        assertEquals(0, p.shortfall());
        assertEquals(0, p.toSend(5_000, sent), "nothing more before more is due");
    }

    @Test
    void afterAStallItCatchesUpOnlyMaxCatchUpAndCountsTheRest() {
        FixedRatePacer p = new FixedRatePacer(RateSchedule.parse("1000"), Duration.ofMillis(20));
        // a slow start: nothing sent for the first second (the old pacing sent 1000 readings at once here)
        assertEquals(20, p.toSend(1_000, 0));
        assertEquals(980, p.shortfall());
        assertEquals(0, p.toSend(1_000, 20), "caught up as far as it may");
        assertEquals(1, p.toSend(1_001, 20), "then on at the rate");
        assertEquals(980, p.shortfall());
        // a stall of 5 ms, within the catch-up allowance: nothing is given up
        assertEquals(5, p.toSend(1_006, 21));
        assertEquals(980, p.shortfall());
    }

    @Test
    void noSpanSendsMoreThanTheRateOverTheSpanPlusTheCatchUpWhateverTheStalls() {
        double rate = 600_000;
        long catchUpMs = 20;
        FixedRatePacer p =
                new FixedRatePacer(RateSchedule.parse(String.format("%.0f", rate)), Duration.ofMillis(catchUpMs));
        SplittableRandom random = new SplittableRandom(13);
        int steps = 20_000;
        long[] sentAt = new long[steps + 1];
        long sent = 0;
        for (int t = 1; t <= steps; t++) {
            // a sender that stalls now and then (up to 300 ms) and otherwise sends what it may
            if (random.nextInt(500) == 0) {
                int stall = 1 + random.nextInt(300);
                for (int i = 0; i < stall && t <= steps; i++, t++) {
                    sentAt[t] = sent;
                }
                if (t > steps) {
                    break;
                }
            }
            sent += p.toSend(t, sent);
            sentAt[t] = sent;
            // what was asked for is either sent or given up
            assertEquals((long) (rate * t / 1000), sent + p.shortfall(), "at " + t + " ms");
        }
        assertTrue(p.shortfall() > 0, "the stalls gave something up");
        long bound = (long) Math.ceil(rate * catchUpMs / 1000);
        for (int span : new int[] {1, 10, 100, 1000}) {
            for (int t = span; t <= steps; t++) {
                long inSpan = sentAt[t] - sentAt[t - span];
                assertTrue(inSpan <= rate * span / 1000 + bound + 1, inSpan + " sent in " + span + " ms to " + t);
            }
        }
    }

    @Test
    void theCatchUpFollowsThePhaseRates() {
        FixedRatePacer p = new FixedRatePacer(RateSchedule.parse("1s@1000,1s@10000"), Duration.ofMillis(100));
        assertEquals(100, p.toSend(1_000, 0), "100 ms of the first phase");
        assertEquals(900, p.shortfall());
        // 100 ms into the second phase: 1000 more due; the last 100 ms of the schedule hold 1000 readings
        assertEquals(1000, p.toSend(1_100, 100));
        assertEquals(900, p.shortfall());
        assertEquals(1000, p.toSend(1_300, 1_100), "the last 100 ms of the schedule at 10000/s");
        assertEquals(900 + 1000, p.shortfall());
    }

    @Test
    void zeroCatchUpStillSendsOneReadingAtATimeAndNegativeIsRefused() {
        FixedRatePacer p = new FixedRatePacer(RateSchedule.parse("10"), Duration.ZERO);
        assertEquals(0, p.toSend(50, 0));
        assertEquals(1, p.toSend(100, 0));
        assertEquals(1, p.toSend(1_000, 1), "ten due, one sent: one now, eight given up");
        assertEquals(8, p.shortfall());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new FixedRatePacer(RateSchedule.parse("10"), Duration.ofMillis(-1)));
        assertTrue(e.getMessage().startsWith("--max-catch-up"), e.getMessage());
    }
}
