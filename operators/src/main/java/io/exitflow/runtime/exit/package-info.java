/**
 * Rung 2 of the runtime's package ladder: exit scores, thresholds and threshold updates. Internal
 * ({@code @Internal}): jobs set thresholds through the control stream of {@link io.exitflow.runtime.api.EarlyExit}.
 * Uses {@code runtime.manifest} only.
 */
package io.exitflow.runtime.exit;
