/**
 * The feedback controller's logic, without Flink: budget solver, controller, measurements. Its settings
 * ({@link io.exitflow.control.ControllerConfig}, {@link io.exitflow.control.Budget}) are public API
 * ({@code @PublicEvolving}), the rest {@code @Internal}. Uses {@code runtime.manifest} and {@code runtime.bundle}.
 */
package io.exitflow.control;
