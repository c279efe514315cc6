package io.exitflow.sql;

import io.exitflow.runtime.onnx.OrtConfig;
import io.exitflow.runtime.operator.CascadeSettings;
import java.io.Serializable;

/**
 * Everything a predict function needs, fixed at planning and shipped with the job.
 *
 * @param model the model's name (catalog identifier), for messages and the worker thread's name
 * @param bundlePath the bundle directory, read again on every TaskManager
 * @param settings the cascade: all stages, exits on, batch size and max wait
 * @param ort device and intra-op threads
 * @param thresholds fixed thresholds (one per stage), or null for the bundle's
 * @param columns the INPUT/OUTPUT binding
 * @param capacity rows ML_PREDICT lets into one subtask's function at once ({@code max-concurrent-operations});
 *     when that many wait in the batches no more can arrive, so the batches run at once
 * @param dropInvalid true: a row the model cannot take yields no output row; false: it fails the job
 * @param idleFlushMicros the async function runs the waiting batches when no row has arrived for this long
 *     (0: never; they wait for a full batch, {@code max-wait} or the capacity)
 */
public record ModelSpec(
        String model,
        String bundlePath,
        CascadeSettings settings,
        OrtConfig ort,
        float[] thresholds,
        ModelColumns columns,
        int capacity,
        boolean dropInvalid,
        long idleFlushMicros)
        implements Serializable {

    /** The same model with another in-flight capacity (ML_PREDICT's CONFIG overrides the session's). */
    public ModelSpec withCapacity(int c) {
        return new ModelSpec(model, bundlePath, settings, ort, thresholds, columns, c, dropInvalid, idleFlushMicros);
    }
}
