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

    @Test
    void aSpanPerWindowGoesIntoTheRowAndWarnsOnlyOverTheJitLimit() throws InterruptedException {
        ThreadCpuSplit split = ThreadCpuSplit.start();
        spin(20);
        split.close();
        ThreadCpuSplit.PerWindow cpu = split.perWindow(2_000_000L, 10); // 2 ms over 10 windows
        assertEquals(200.0, cpu.cpuUs());
        Map<String, Object> row = new LinkedHashMap<>();
        cpu.putInto(row);
        assertEquals(200.0, row.get("cpu_us_per_window"));
        assertTrue(row.containsKey("jit_share_of_cpu") && row.containsKey("cpu_us_per_window_without_jit"), "" + row);
        assertEquals(cpu.byRoleUs(), row.get("cpu_us_per_window_by_thread"));
        assertThrows(IllegalArgumentException.class, () -> split.perWindow(1L, 0));

        ThreadCpuSplit.PerWindow atLimit =
                new ThreadCpuSplit.PerWindow(100, ThreadCpuSplit.JIT_SHARE_LIMIT, 90, Map.of());
        assertTrue(atLimit.jitWarning("CASCADE", "run longer").isEmpty());
        String warning = new ThreadCpuSplit.PerWindow(100, 0.25, 75, Map.of())
                .jitWarning("CASCADE", "run longer")
                .orElseThrow();
        assertTrue(warning.contains("CASCADE") && warning.contains("25.0%") && warning.endsWith("run longer"), warning);
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
