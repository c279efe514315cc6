package io.exitflow.runtime.manifest;

import java.nio.file.Path;
import java.util.List;
import org.apache.flink.annotation.PublicEvolving;

/** fixtures.json: raw inputs with every stage's expected outputs, for parity tests against the toolkit. */
@PublicEvolving
public record Fixtures(
        List<Integer> inputShape,
        float[][] inputs,
        float[] thresholds,
        List<StageExpectation> stages,
        int[] expectedExit,
        int[] expectedClass,
        double tolerance) {

    /** Expected outputs of one stage for every fixture input. */
    public record StageExpectation(float[][] logits, float[] score, float[][] carry) {}

    /** Reads fixtures.json from a bundle directory. */
    public static Fixtures read(Path bundleDir) {
        return Json.read(bundleDir.resolve("fixtures.json"), Fixtures.class);
    }
}
