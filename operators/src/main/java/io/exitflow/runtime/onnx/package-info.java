/**
 * Rung 3 of the runtime's package ladder: ONNX Runtime sessions (shared per TaskManager JVM) and stage runners.
 * {@link io.exitflow.runtime.onnx.OrtConfig} (devices, threads) is public API ({@code @PublicEvolving}), the rest
 * {@code @Internal}. Uses {@code runtime.manifest} and {@code runtime.exit}.
 */
package io.exitflow.runtime.onnx;
