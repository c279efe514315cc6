package io.exitflow.sql;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;

/** Paths and environments the SQL tests share. */
final class SqlTestSupport {
    private SqlTestSupport() {}

    /** {@code relative} under the repository root (the first ancestor holding {@code models/} and a pom.xml). */
    static Path repo(String relative) {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isDirectory(dir.resolve("models")) && Files.exists(dir.resolve("pom.xml"))) {
                return dir.resolve(relative);
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException(
                "no repository root (with models/) above " + Path.of("").toAbsolutePath());
    }

    /** A streaming TableEnvironment whose jobs run on a local MiniCluster (REST on a free port). */
    static StreamTableEnvironment tableEnv(int parallelism) {
        Configuration conf = new Configuration();
        conf.set(RestOptions.BIND_PORT, "0");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
        return StreamTableEnvironment.create(env, EnvironmentSettings.inStreamingMode());
    }
}
