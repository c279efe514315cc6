package io.exitflow.jobs.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RateScheduleTest {
    @Test
    void parsesPhasesAndIntegratesTheRate() {
        RateSchedule s = RateSchedule.parse("60s@2000, 30s@4000,500ms@0,1m@10");
        assertEquals(4, s.phases().size());
        assertEquals(60_000 + 30_000 + 500 + 60_000, s.totalMillis());
        assertEquals(2000, s.rateAt(0));
        assertEquals(4000, s.rateAt(60_000));
        assertEquals(0, s.rateAt(90_100));
        assertEquals(10, s.rateAt(91_000));
        assertEquals(0, s.rateAt(200_000), "no rate after the end");
        assertEquals(1000, s.eventsDueAt(500), 1e-9);
        assertEquals(120_000 + 2 * 4000, s.eventsDueAt(62_000), 1e-9);
        assertEquals(120_000 + 120_000 + 600, s.eventsDueAt(Long.MAX_VALUE / 2), 1e-9, "stays at the total");
    }

    @Test
    void aLoneRateRunsForever() {
        RateSchedule s = RateSchedule.parse("2500");
        assertEquals(Long.MAX_VALUE, s.totalMillis());
        assertEquals(2500, s.rateAt(1_000_000_000L));
        assertEquals(25_000, s.eventsDueAt(10_000), 1e-9);
    }

    @Test
    void rejectsMalformedSchedulesNamingThePart() {
        for (String bad : new String[] {"", "60@2000", "60s@", "@2000", "60s@-1", "0s@10", "x", "60s@fast"}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> RateSchedule.parse(bad), bad);
            assertTrue(e.getMessage().contains("schedule") || e.getMessage().contains("rate"), e.getMessage());
        }
    }
}
