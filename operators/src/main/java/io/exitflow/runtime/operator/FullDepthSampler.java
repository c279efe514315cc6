package io.exitflow.runtime.operator;

/**
 * Chooses the events that run every stage. Deterministic in the event id, so a replay after a restore samples the
 * same events (the output does not change with recovery).
 */
final class FullDepthSampler {
    private final long cutoff;

    public FullDepthSampler(double rate) {
        this.cutoff = (long) Math.floor(rate * (1L << 24));
    }

    public boolean sample(String eventId) {
        if (cutoff <= 0) {
            return false;
        }
        int h = eventId.hashCode();
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return (h >>> 8) < cutoff;
    }
}
