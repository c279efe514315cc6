package io.exitflow.jobs.common;

import java.util.ArrayList;
import java.util.List;

/**
 * Command lines for building a job's graph in a test: a broker address nothing listens on (building a job stays
 * offline; the checks against the broker run only before submission, {@link JobConfig#runStartChecks}) and the
 * bundle, then the test's own flags.
 */
public final class OfflineArgs {
    /** A Kafka address that is never dialled while a job is built. */
    public static final String NO_BROKER = "localhost:9";

    private OfflineArgs() {}

    /** {@code --bootstrap-servers localhost:9 --bundle <bundle>} followed by {@code more}. */
    public static String[] of(String bundle, String... more) {
        List<String> a = new ArrayList<>(List.of("--bootstrap-servers", NO_BROKER, "--bundle", bundle));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }
}
