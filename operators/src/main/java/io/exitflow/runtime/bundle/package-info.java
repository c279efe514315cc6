/**
 * Rung 4 of the runtime's package ladder: loading a model bundle once ({@link io.exitflow.runtime.bundle.ModelBundle},
 * public API, {@code @PublicEvolving}: it checks the manifest, calibration and every ONNX graph's signature) and the
 * input normaliser ({@code @Internal}). Uses {@code runtime.manifest} and {@code runtime.onnx}.
 */
package io.exitflow.runtime.bundle;
