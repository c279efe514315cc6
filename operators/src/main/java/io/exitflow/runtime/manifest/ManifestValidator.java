package io.exitflow.runtime.manifest;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks a manifest against the bundle contract; every failure names manifest.json and the field to fix. The toolkit's
 * {@code python -m exitflow verify} (src/exitflow/export.py, {@code check_manifest}) makes the same checks: change
 * both together.
 */
final class ManifestValidator {
    /** The format this runtime writes about; format 1 (whole-ms sample period, no max gap) is still read. */
    static final int FORMAT_VERSION = 2;

    private static final Set<Integer> READABLE_VERSIONS = Set.of(1, 2);
    private static final Set<String> SCORE_SOURCES = Set.of("model", "maxprob", "entropy", "margin");

    private final Path file;

    ManifestValidator(Path file) {
        this.file = file;
    }

    void validate(Manifest m) {
        require(
                READABLE_VERSIONS.contains(m.formatVersion()),
                "format_version is " + m.formatVersion() + ", this runtime reads 1 or 2");
        require(notBlank(m.modelId()), "model_id is missing");
        require(notBlank(m.modelVersion()), "model_version is missing");
        validateClasses(m.classes());
        validateInput(m.input(), m.task());
        require(m.carryDim() >= 1, "carry_dim must be >= 1, got " + m.carryDim());
        require(m.stages() != null && !m.stages().isEmpty(), "stages is empty");
        for (int k = 0; k < m.numStages(); k++) {
            validateStage(m, k);
        }
        validateExit(m);
        validateFullGraph(m);
    }

    /** The optional full graph: a file and the last stage's tensor roles (no state output). */
    private void validateFullGraph(Manifest m) {
        Manifest.FullGraph g = m.fullGraph();
        if (g == null) {
            return;
        }
        require(notBlank(g.file()), "full_graph.file is missing");
        require(
                g.inputs() != null
                        && notBlank(g.inputs().get("state"))
                        && notBlank(g.inputs().get("carry")),
                "full_graph.inputs needs 'state' and 'carry' names");
        for (String role : List.of("carry", "logits", "score")) {
            require(
                    g.outputs() != null && notBlank(g.outputs().get(role)),
                    "full_graph.outputs." + role + " is missing");
        }
        require(g.outputs().get("state") == null, "full_graph.outputs.state must be absent (the graph ends the model)");
    }

    private void validateClasses(List<String> classes) {
        require(classes != null && classes.size() >= 2, "classes must list at least 2 class names");
        require(new HashSet<>(classes).size() == classes.size(), "classes has duplicate names: " + classes);
    }

    private void validateInput(Manifest.Input in, String task) {
        require(in != null && in.shape() != null && !in.shape().isEmpty(), "input.shape is missing");
        require(
                in.shape().stream().allMatch(d -> d != null && d > 0),
                "input.shape must be positive, got " + in.shape());
        if ("features".equals(in.layout())) {
            require(in.shape().size() == 1, "input.layout 'features' needs a 1-d input.shape, got " + in.shape());
        } else if ("channels_first".equals(in.layout())) {
            require(
                    in.shape().size() == 2,
                    "input.layout 'channels_first' needs input.shape [channels, time], got " + in.shape());
        } else {
            throw problem("input.layout must be 'features' or 'channels_first', got '" + in.layout() + "'");
        }
        int n = in.shape().get(0);
        require(
                in.mean() != null && in.mean().length == n,
                "input.mean must have " + n + " values (one per "
                        + ("features".equals(in.layout()) ? "feature" : "channel") + ")");
        require(in.std() != null && in.std().length == n, "input.std must have " + n + " values");
        for (float s : in.std()) {
            require(s > 0 && Float.isFinite(s), "input.std values must be positive and finite, got " + s);
        }
        if ("sensor-window".equals(task)) {
            require(
                    "channels_first".equals(in.layout()) && in.window() != null,
                    "task 'sensor-window' needs input.layout 'channels_first' and input.window");
        }
        if (in.window() != null) {
            validateWindow(in.window(), in);
        }
    }

    private void validateWindow(Manifest.Window w, Manifest.Input in) {
        require("channels_first".equals(in.layout()), "input.window is only for input.layout 'channels_first'");
        require(
                w.size() == in.shape().get(1),
                "input.window.size " + w.size() + " must equal input.shape[1] "
                        + in.shape().get(1) + " (the readings per window)");
        require(w.slide() >= 1, "input.window.slide must be >= 1, got " + w.slide());
        double period = w.samplePeriodMs();
        require(
                period > 0 && Double.isFinite(period),
                "input.window.sample_period_ms must be positive and finite, got " + period);
        if (w.maxGapMs() != null) {
            double gap = w.maxGapMs();
            require(
                    gap >= period && Double.isFinite(gap),
                    "input.window.max_gap_ms must be finite and at least sample_period_ms " + period + ", got " + gap);
        }
    }

    private void validateStage(Manifest m, int k) {
        Manifest.Stage s = m.stages().get(k);
        String at = "stages[" + k + "]";
        boolean last = k == m.numStages() - 1;
        require(s.index() == k, at + ".index is " + s.index() + ", expected " + k);
        require(notBlank(s.file()), at + ".file is missing");
        require(
                notBlank(s.input("state")) && notBlank(s.input("carry")),
                at + ".inputs needs 'state' and 'carry' names");
        for (String role : List.of("carry", "logits", "score")) {
            require(notBlank(s.output(role)), at + ".outputs." + role + " is missing");
        }
        if (last) {
            require(s.output("state") == null, at + " is the last stage: outputs.state must be null");
        } else {
            require(notBlank(s.output("state")), at + ".outputs.state is missing (only the last stage has none)");
            require(s.stateOutShape() != null && !s.stateOutShape().isEmpty(), at + ".state_out_shape is missing");
        }
        require(s.stateInShape() != null && !s.stateInShape().isEmpty(), at + ".state_in_shape is missing");
        List<Integer> expectedIn =
                k == 0 ? m.input().shape() : m.stages().get(k - 1).stateOutShape();
        require(
                s.stateInShape().equals(expectedIn),
                at + ".state_in_shape " + s.stateInShape() + " must equal "
                        + (k == 0 ? "input.shape " : "stages[" + (k - 1) + "].state_out_shape ") + expectedIn);
    }

    private void validateExit(Manifest m) {
        Manifest.Exit e = m.exit();
        require(e != null, "exit is missing");
        require(
                SCORE_SOURCES.contains(e.score()),
                "exit.score must be one of " + SCORE_SOURCES + ", got '" + e.score() + "'");
        require(
                e.thresholds() != null && e.thresholds().length == m.numStages(),
                "exit.thresholds must have one value per stage (" + m.numStages() + "), got "
                        + (e.thresholds() == null ? "none" : e.thresholds().length));
        for (float t : e.thresholds()) {
            require(t >= 0f && t <= 1f, "exit.thresholds values must be in [0, 1], got " + t);
        }
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }

    private void require(boolean ok, String problem) {
        if (!ok) {
            throw problem(problem);
        }
    }

    private BundleException problem(String problem) {
        return new BundleException(file, problem);
    }
}
