package io.exitflow.jobs.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real schema registry speaking Confluent's REST API, for the demo ({@code --schema-registry}) and the tests:
 * Apicurio Registry's distribution from Maven Central (a Quarkus application; it needs Java 21 or newer:
 * {@link #registryJava}), run as its own JVM on a
 * free loopback port, with its storage (H2) in a file of a temporary directory, so that {@link #restart} keeps every
 * schema and id as a restarted production registry would. Clients use {@link #url()}, Apicurio's
 * Confluent-compatible API ({@code /apis/ccompat/v7}). Starts in about 15 s; {@link #close} stops it and removes
 * its data.
 *
 * <p>The distribution is the {@code io.apicurio:apicurio-registry-app:<version>:tar.gz:all} artifact that the
 * {@code jobs} build fetches into the local Maven repository; it is unpacked once into
 * {@code ~/.cache/exitflow/apicurio-registry-<version>}. {@code -Dexitflow.schema-registry.dist=FILE.tar.gz} names
 * another copy.
 */
@SuppressWarnings("try") // close() waits for the registry to stop: an interrupt meanwhile must surface (-Xlint:all)
public final class EmbeddedSchemaRegistry implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedSchemaRegistry.class);

    /** Apicurio Registry version (the jobs pom's {@code apicurio.registry.version}). */
    public static final String DEFAULT_VERSION = "3.3.3";
    /** Oldest Java the registry runs on. */
    static final int MIN_JAVA = 21;
    /** Path of Apicurio's Confluent-compatible API under its root. */
    public static final String CCOMPAT_PATH = "/apis/ccompat/v7";

    private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

    private final Path home;
    private final Path data;
    private final int port;
    private Process process;

    private EmbeddedSchemaRegistry(Path home, Path data, int port) {
        this.home = home;
        this.data = data;
        this.port = port;
    }

    /** Starts a registry with empty storage and waits until it answers. */
    public static EmbeddedSchemaRegistry start() throws IOException, InterruptedException {
        Path home = unpacked();
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        EmbeddedSchemaRegistry r =
                new EmbeddedSchemaRegistry(home, Files.createTempDirectory("exitflow-registry"), port);
        try {
            r.launch();
        } catch (IOException | InterruptedException | RuntimeException e) {
            r.close();
            throw e;
        }
        return r;
    }

    /** The registry's Confluent-compatible base URL (for {@code --schema-registry-url}). */
    public String url() {
        return "http://127.0.0.1:" + port + CCOMPAT_PATH;
    }

    /** Whether the registry process is running. */
    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Stops the registry process (its storage stays): clients see connection refused until {@link #restart}. */
    public void stop() throws InterruptedException {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            process = null;
        }
    }

    /** Starts the stopped registry again on the same port with the same storage, and waits until it answers. */
    public void restart() throws IOException, InterruptedException {
        stop();
        launch();
    }

    private void launch() throws IOException, InterruptedException {
        Path jar = runnerJar(home);
        String java = registryJava().toString();
        List<String> cmd = new ArrayList<>(List.of(
                java,
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-Dquarkus.http.host=127.0.0.1",
                "-Dquarkus.http.port=" + port,
                "-Dquarkus.management.host=127.0.0.1",
                "-Dquarkus.management.port=0",
                "-Dquarkus.http.access-log.enabled=false",
                "-Dapicurio.datasource.url=jdbc:h2:file:"
                        + data.resolve("registry").toAbsolutePath(),
                "-jar",
                jar.toString()));
        Path log = data.resolve("registry.log");
        process = new ProcessBuilder(cmd)
                .directory(data.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!answers()) {
            if (!process.isAlive()) {
                throw new IOException("schema registry (" + jar + ") exited with " + process.exitValue()
                        + "; its log:\n" + tail(log));
            }
            if (System.nanoTime() > deadline) {
                stop();
                throw new IOException("schema registry (" + jar + ") did not answer on port " + port + " within "
                        + START_TIMEOUT.toSeconds() + " s; its log:\n" + tail(log));
            }
            Thread.sleep(200);
        }
        LOG.info("schema registry (Apicurio {}) answers at {}", home.getFileName(), url());
    }

    private boolean answers() {
        try {
            HttpURLConnection c =
                    (HttpURLConnection) URI.create(url() + "/subjects").toURL().openConnection();
            c.setConnectTimeout(1000);
            c.setReadTimeout(2000);
            try {
                return c.getResponseCode() == 200;
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return false;
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    /**
     * The java command the registry runs with (Java {@value #MIN_JAVA}+): {@code -Dexitflow.schema-registry.java} or
     * {@code $EXITFLOW_REGISTRY_JAVA}, else this JVM's when new enough, else the newest JDK under {@code /usr/lib/jvm}
     * or {@code /opt/java} that is.
     *
     * @throws IOException naming what to install or set when there is none
     */
    static Path registryJava() throws IOException {
        String given = System.getProperty("exitflow.schema-registry.java", System.getenv("EXITFLOW_REGISTRY_JAVA"));
        if (given != null && !given.isBlank()) {
            return existing(Path.of(given), "-Dexitflow.schema-registry.java / EXITFLOW_REGISTRY_JAVA");
        }
        if (Runtime.version().feature() >= MIN_JAVA) {
            return Path.of(System.getProperty("java.home"), "bin", "java");
        }
        Path best = null;
        int bestVersion = 0;
        for (String root : List.of("/usr/lib/jvm", "/opt/java")) {
            Path dir = Path.of(root);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> homes = Files.list(dir)) {
                for (Path h : (Iterable<Path>) homes::iterator) {
                    int v = javaVersion(h);
                    if (v >= MIN_JAVA && v > bestVersion && Files.isExecutable(h.resolve("bin/java"))) {
                        best = h.resolve("bin/java");
                        bestVersion = v;
                    }
                }
            }
        }
        if (best == null) {
            throw new IOException("the schema registry (Apicurio Registry " + DEFAULT_VERSION + ") needs Java "
                    + MIN_JAVA + "+ and this JVM is " + Runtime.version().feature() + " with none under /usr/lib/jvm: "
                    + "install one (apt-get install openjdk-21-jre-headless) or set EXITFLOW_REGISTRY_JAVA to its "
                    + "bin/java");
        }
        return best;
    }

    /** The feature version a JDK's {@code release} file names, 0 when unknown. */
    private static int javaVersion(Path home) {
        Path release = home.resolve("release");
        if (!Files.isRegularFile(release)) {
            return 0;
        }
        try {
            for (String line : Files.readAllLines(release)) {
                if (line.startsWith("JAVA_VERSION=")) {
                    String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
                    String major = v.startsWith("1.") ? v.substring(2) : v;
                    int end = 0;
                    while (end < major.length() && Character.isDigit(major.charAt(end))) {
                        end++;
                    }
                    return end == 0 ? 0 : Integer.parseInt(major.substring(0, end));
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    /** The unpacked distribution, unpacking it first when needed. */
    static Path unpacked() throws IOException, InterruptedException {
        String version = System.getProperty("exitflow.schema-registry.version", DEFAULT_VERSION);
        Path cache = Path.of(System.getProperty("user.home"), ".cache", "exitflow", "apicurio-registry-" + version);
        if (Files.isDirectory(cache)) {
            return cache;
        }
        Path dist = distribution(version);
        Files.createDirectories(cache.getParent());
        Path tmp = Files.createTempDirectory(cache.getParent(), "unpacking-");
        Process tar = new ProcessBuilder("tar", "xzf", dist.toString(), "-C", tmp.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(tar.getInputStream().readAllBytes());
        if (tar.waitFor() != 0) {
            deleteTree(tmp);
            throw new IOException("cannot unpack " + dist + " (tar): " + out);
        }
        try {
            Files.move(tmp, cache, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
            deleteTree(tmp); // another process unpacked it first
        } catch (IOException e) {
            if (!Files.isDirectory(cache)) {
                throw e;
            }
            deleteTree(tmp);
        }
        return cache;
    }

    private static Path distribution(String version) throws IOException {
        String given = System.getProperty("exitflow.schema-registry.dist");
        if (given != null) {
            return existing(Path.of(given), "-Dexitflow.schema-registry.dist");
        }
        String repo = System.getProperty(
                "exitflow.mvn.repo",
                Path.of(System.getProperty("user.home"), ".m2", "repository").toString());
        Path p = Path.of(
                repo,
                "io",
                "apicurio",
                "apicurio-registry-app",
                version,
                "apicurio-registry-app-" + version + "-all.tar.gz");
        return existing(p, "the jobs build (mvn -pl jobs -am test-compile fetches it)");
    }

    private static Path existing(Path p, String from) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new IOException("no schema registry distribution at " + p + "; it comes from " + from);
        }
        return p;
    }

    private static Path runnerJar(Path home) throws IOException {
        try (Stream<Path> s = Files.list(home)) {
            return s.filter(f -> f.getFileName().toString().endsWith("-runner.jar")
                            || f.getFileName().toString().equals("quarkus-run.jar"))
                    .findFirst()
                    .orElseThrow(() -> new IOException("no runner jar in " + home));
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("cannot remove {}: {}", root, e.toString());
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
        deleteTree(data);
    }
}
