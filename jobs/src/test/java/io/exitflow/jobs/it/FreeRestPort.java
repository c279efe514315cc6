package io.exitflow.jobs.it;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;

/** MiniCluster configuration for the ITs: another build's cluster may hold Flink's default REST port 8081. */
final class FreeRestPort {
    private FreeRestPort() {}

    /** {@code conf} with the REST endpoint bound to any free port. */
    static Configuration on(Configuration conf) {
        conf.set(RestOptions.BIND_PORT, "0");
        return conf;
    }
}
