/**
 * Rung 1 of the runtime's package ladder: the records that enter and leave the early-exit operators
 * ({@link io.exitflow.runtime.record.InferenceRequest}, {@link io.exitflow.runtime.record.RejectedRequest}); public API
 * ({@code @PublicEvolving}). Uses no other runtime package.
 */
package io.exitflow.runtime.record;
