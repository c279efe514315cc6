package io.exitflow.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ThreadCpuSplitTest {
    @Test
    void theJitShareIsTheCompilersOverEveryRoleAndTheRest() {
        Map<String, Long> split = new LinkedHashMap<>();
        split.put("task: early exit -> ...", 600L);
        split.put(ThreadCpuSplit.JIT_ROLE, 150L);
        split.put("rest (threads ended between polls, native threads)", 250L);
        assertEquals(0.15, ThreadCpuSplit.jitShare(split), 1e-12);
        assertEquals(0, ThreadCpuSplit.jitShare(Map.of()));
        assertEquals(0, ThreadCpuSplit.jitShare(Map.of("main", 10L)));
    }

    @Test
    void compilerThreadsAndTheProgressReaderHaveTheirRoles() {
        assertEquals(ThreadCpuSplit.JIT_ROLE, ThreadCpuSplit.vmRole("C2 CompilerThre"));
        assertEquals(ThreadCpuSplit.JIT_ROLE, ThreadCpuSplit.vmRole("C1 CompilerThre"));
        assertEquals(
                ThreadCpuSplit.PROGRESS_READER_ROLE, ThreadCpuSplit.role("bench-progress-reader-predictions-cascade"));
    }

    @Test
    void aMarkedSpanCountsOnlyTheCpuAfterTheMark() throws InterruptedException {
        ThreadCpuSplit split = ThreadCpuSplit.start();
        spin(200); // before the mark: not counted
        split.mark();
        spin(50);
        split.end();
        long afterEnd = split.processCpuNanos();
        spin(50); // after the end: not counted either
        split.close();
        assertEquals(afterEnd, split.processCpuNanos());
        String role = ThreadCpuSplit.role(Thread.currentThread().getName());
        long mine = split.split().getOrDefault(role, 0L);
        assertTrue(mine > 40_000_000L && mine < 150_000_000L, "this thread's CPU in the span: " + mine + " ns");
        assertThrows(IllegalStateException.class, split::mark);
    }

    /** Keeps this thread on the CPU for about {@code millis} of its own CPU time. */
    private static void spin(long millis) {
        java.lang.management.ThreadMXBean t = java.lang.management.ManagementFactory.getThreadMXBean();
        long until = t.getCurrentThreadCpuTime() + millis * 1_000_000L;
        long x = 0;
        while (t.getCurrentThreadCpuTime() < until) {
            x += System.nanoTime() & 1;
        }
        if (x < 0) {
            throw new AssertionError(); // keeps the loop from being optimised away
        }
    }
}
