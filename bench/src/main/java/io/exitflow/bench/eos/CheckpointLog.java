package io.exitflow.bench.eos;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every checkpoint of a job, as the JobManager's REST API reports it ({@code /jobs/:id/checkpoints}), collected by
 * polling more often than the API's short history turns over; and every restore from a checkpoint.
 */
final class CheckpointLog {
    /** One finished checkpoint: sizes in bytes, times in epoch ms. */
    record Checkpoint(
            long id,
            String status,
            long triggerMillis,
            long durationMillis,
            long checkpointedBytes,
            long stateBytes,
            int acknowledged,
            int subtasks,
            String failure) {}

    /** One restore: the checkpoint a (re)started job resumed from. */
    record Restore(long checkpointId, long restoreMillis) {}

    private final Map<Long, Checkpoint> byId = new TreeMap<>();
    private final List<Restore> restores = new ArrayList<>();
    private JsonNode counts;

    /** Takes in one answer of {@code /jobs/:id/checkpoints}: finished checkpoints not seen before, a new restore. */
    synchronized void update(JsonNode stats) {
        counts = stats.path("counts");
        for (JsonNode c : stats.path("history")) {
            String status = c.path("status").asText();
            if (status.equals("IN_PROGRESS") || byId.containsKey(c.path("id").asLong())) {
                continue;
            }
            byId.put(
                    c.path("id").asLong(),
                    new Checkpoint(
                            c.path("id").asLong(),
                            status,
                            c.path("trigger_timestamp").asLong(),
                            c.path("end_to_end_duration").asLong(),
                            c.path("checkpointed_size").asLong(),
                            c.path("state_size").asLong(),
                            c.path("num_acknowledged_subtasks").asInt(),
                            c.path("num_subtasks").asInt(),
                            c.path("failure_message").isMissingNode()
                                    ? ""
                                    : c.path("failure_message").asText()));
        }
        JsonNode restored = stats.path("latest").path("restored");
        if (restored.isObject() && restored.has("restore_timestamp")) {
            long when = restored.path("restore_timestamp").asLong();
            if (restores.isEmpty() || restores.get(restores.size() - 1).restoreMillis() != when) {
                restores.add(new Restore(restored.path("id").asLong(), when));
            }
        }
    }

    synchronized List<Checkpoint> checkpoints() {
        return List.copyOf(byId.values());
    }

    synchronized List<Restore> restores() {
        return List.copyOf(restores);
    }

    /** The newest completed checkpoint, or null. */
    synchronized Checkpoint lastCompleted() {
        Checkpoint last = null;
        for (Checkpoint c : byId.values()) {
            if (c.status().equals("COMPLETED")) {
                last = c;
            }
        }
        return last;
    }

    synchronized long completed() {
        return counts == null ? 0 : counts.path("completed").asLong();
    }

    synchronized long failed() {
        return counts == null ? 0 : counts.path("failed").asLong();
    }

    /** Writes one line per checkpoint: id, status, seconds after {@code startMillis}, duration, sizes. */
    synchronized void writeCsv(Path file, long startMillis) throws IOException {
        StringBuilder sb = new StringBuilder(
                "id,status,trigger_s,duration_ms,checkpointed_mb,state_mb,acknowledged,subtasks,failure\n");
        for (Checkpoint c : byId.values()) {
            sb.append(String.format(
                    Locale.ROOT,
                    "%d,%s,%.1f,%d,%.3f,%.3f,%d,%d,\"%s\"%n",
                    c.id(),
                    c.status(),
                    (c.triggerMillis() - startMillis) / 1000.0,
                    c.durationMillis(),
                    c.checkpointedBytes() / 1e6,
                    c.stateBytes() / 1e6,
                    c.acknowledged(),
                    c.subtasks(),
                    c.failure().replace('"', '\'')));
        }
        Files.writeString(file, sb.toString());
    }
}
