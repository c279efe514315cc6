/**
 * Rung 5 of the runtime's package ladder: the Flink operators and the batching cascade they share.
 * {@link io.exitflow.runtime.operator.CascadeObserver} is an extension point ({@code @PublicEvolving}); the operators,
 * {@code BatchingCascade} and their settings are {@code @Internal} (placed by {@link io.exitflow.runtime.api.EarlyExit}),
 * their helpers package-private. Uses every rung below it.
 */
package io.exitflow.runtime.operator;
