package io.exitflow.runtime.operator;

import java.util.ArrayList;
import java.util.List;

/** Events waiting for one stage, bounded by the batch size; remembers when its oldest event arrived. */
final class StageBatch {
    private final int capacity;
    private List<InFlightEvent> events;
    private long oldestArrivalMillis;

    StageBatch(int capacity) {
        this.capacity = capacity;
        this.events = new ArrayList<>(capacity);
    }

    void add(InFlightEvent e, long nowMillis) {
        if (events.isEmpty()) {
            oldestArrivalMillis = nowMillis;
        }
        events.add(e);
    }

    boolean isFull() {
        return events.size() >= capacity;
    }

    boolean isEmpty() {
        return events.isEmpty();
    }

    int size() {
        return events.size();
    }

    long oldestArrivalMillis() {
        return oldestArrivalMillis;
    }

    /** The waiting events, removed from the batch (so a stage can refill while they run on). */
    List<InFlightEvent> drain() {
        List<InFlightEvent> out = events;
        events = new ArrayList<>(capacity);
        return out;
    }

    /** A view of the waiting events (for snapshots). */
    List<InFlightEvent> view() {
        return events;
    }
}
