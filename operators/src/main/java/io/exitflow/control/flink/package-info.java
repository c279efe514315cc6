/**
 * The feedback controller as Flink operators: {@link io.exitflow.control.flink.FeedbackLoop} (wiring, public API) and
 * the extension point {@link io.exitflow.control.flink.SourceLagProbe} ({@code @PublicEvolving}); the controller
 * function itself is package-private. Uses {@code io.exitflow.control}.
 */
package io.exitflow.control.flink;
