/**
 * Rung 1 of the runtime's package ladder (docs/runtime-api.md, "Packages"): the bundle contract as data
 * (docs/bundle-contract.md). {@link io.exitflow.runtime.manifest.Manifest}, {@link io.exitflow.runtime.manifest.Calibration},
 * {@link io.exitflow.runtime.manifest.Fixtures} and {@link io.exitflow.runtime.manifest.BundleException} are public API
 * ({@code @PublicEvolving}); reading JSON and checking the manifest are package-private. Uses no other runtime package.
 */
package io.exitflow.runtime.manifest;
