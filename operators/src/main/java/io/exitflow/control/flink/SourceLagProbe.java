package io.exitflow.control.flink;

import java.io.Serializable;
import org.apache.flink.annotation.PublicEvolving;

/**
 * How far the job's source is behind its input: events written to the input and not yet read. Overload shows here
 * first (the operators' own queues are bounded and backpressure stops the source), so the controller adds it to the
 * operators' backlog: a growing lag raises the input-rate estimate, a lag above the allowance is planned away.
 *
 * <p>Created on the client, serialised into the job, opened once in the controller task. Calls come from that
 * task's thread only: {@link #onCheckpointComplete} after every completed checkpoint (sources commit their read
 * positions then), {@link #eventsBehind} once per control interval. Neither may block: a probe starts its queries
 * asynchronously and answers from the latest one that finished.
 */
@PublicEvolving
@SuppressWarnings("try") // close() may wait for the probe's queries and so be interrupted; callers close it in finally
public interface SourceLagProbe extends Serializable, AutoCloseable {

    /** Connects (called once, before any other call). */
    void open() throws Exception;

    /**
     * A checkpoint completed: the sources' positions as of its trigger are committed now.
     *
     * @param checkpointId the checkpoint
     * @param triggerMillis when the checkpoint was triggered (wall clock), i.e. when the sources took the
     *     positions they commit
     */
    void onCheckpointComplete(long checkpointId, long triggerMillis);

    /**
     * The latest estimate of input events not yet read, in the controller's unit (events entering stage 0), or -1
     * while there is none.
     *
     * @param nowMillis the wall clock now
     */
    long eventsBehind(long nowMillis);

    /** Releases connections; never throws for a probe that was never opened. */
    @Override
    void close() throws Exception;
}
