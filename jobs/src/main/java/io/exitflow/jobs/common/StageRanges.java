package io.exitflow.jobs.common;

import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Parses the per-stage settings: stage lists ({@code 2,3}, {@code 2-3}, {@code 0,2-3}) and stage maps
 * ({@code 0-1:cpu,2-3:gpu}). Every error names the setting and says what to write instead.
 */
final class StageRanges {
    private StageRanges() {}

    /**
     * @param setting the setting's command-line name, for messages
     * @param text the value, e.g. {@code 2,3} or {@code 2-3}
     * @param numStages stages of the served model; every index must be below it
     */
    static SortedSet<Integer> parseList(String setting, String text, int numStages) {
        SortedSet<Integer> out = new TreeSet<>();
        for (String part : text.split(",", -1)) {
            for (int k : range(setting, part.trim(), numStages)) {
                if (!out.add(k)) {
                    throw new IllegalArgumentException(
                            "--" + setting + ": stage " + k + " is named twice in '" + text + "'");
                }
            }
        }
        return out;
    }

    /**
     * @param text entries {@code <stages>:<value>}, comma-separated, e.g. {@code 0-1:cpu,2-3:gpu}
     * @return stage to value, for the stages named (in stage order)
     */
    static Map<Integer, String> parseMap(String setting, String text, int numStages) {
        Map<Integer, String> out = new TreeMap<>();
        for (String entry : text.split(",", -1)) {
            int colon = entry.indexOf(':');
            String value = colon < 0 ? "" : entry.substring(colon + 1).trim();
            if (colon < 0 || value.isEmpty()) {
                throw new IllegalArgumentException("--" + setting + ": '" + entry.trim() + "' is not <stages>:<value> "
                        + "(e.g. 0-1:cpu,2-3:gpu)");
            }
            for (int k : range(setting, entry.substring(0, colon).trim(), numStages)) {
                if (out.put(k, value) != null) {
                    throw new IllegalArgumentException(
                            "--" + setting + ": stage " + k + " is named twice in '" + text + "'");
                }
            }
        }
        return out;
    }

    /** One item: {@code k} or {@code a-b} (inclusive). */
    private static int[] range(String setting, String item, int numStages) {
        int dash = item.indexOf('-', 1);
        int from = index(setting, dash < 0 ? item : item.substring(0, dash), numStages);
        int to = dash < 0 ? from : index(setting, item.substring(dash + 1), numStages);
        if (to < from) {
            throw new IllegalArgumentException("--" + setting + ": range '" + item + "' runs backwards");
        }
        int[] out = new int[to - from + 1];
        for (int i = 0; i < out.length; i++) {
            out[i] = from + i;
        }
        return out;
    }

    private static int index(String setting, String text, int numStages) {
        int k;
        try {
            k = Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "--" + setting + ": '" + text.trim() + "' is not a stage index " + "(stages are 0.."
                            + (numStages - 1) + ")",
                    e);
        }
        if (k < 0 || k >= numStages) {
            throw new IllegalArgumentException("--" + setting + ": stage " + k + " is out of range; the model has "
                    + numStages + " stages, 0.." + (numStages - 1));
        }
        return k;
    }
}
