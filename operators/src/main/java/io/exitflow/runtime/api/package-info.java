/**
 * Top rung of the runtime's package ladder: {@link io.exitflow.runtime.api.EarlyExit}, the one entry point a job calls
 * (public API, {@code @PublicEvolving}). Nothing in the runtime depends on this package.
 */
package io.exitflow.runtime.api;
