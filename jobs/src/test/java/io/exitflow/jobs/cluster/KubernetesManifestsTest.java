package io.exitflow.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.common.StagePlacement;
import io.exitflow.runtime.api.EarlyExit;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.onnx.OrtConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.api.common.operators.SlotSharingGroup;
import org.apache.flink.api.common.operators.util.SlotSharingGroupUtils;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.clusterframework.types.ResourceProfile;
import org.apache.flink.runtime.resourcemanager.WorkerResourceSpec;
import org.apache.flink.runtime.resourcemanager.slotmanager.SlotManagerUtils;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks deploy/k8s against what its readers need: the fields the Flink Kubernetes Operator reads from the
 * FlinkDeployment, the job arguments (parsed by the jobs' own {@link JobConfig}), the GPU plumbing (Flink's gpu
 * external resource and the nvidia.com/gpu limit on {@code flink-main-container}), the extra CPU TaskManager
 * pool, the deep stages' GPU slot sharing group (parsed by the jobs' {@link StagePlacement}) against what a GPU
 * TaskManager offers, the Strimzi topics against the job's topic arguments, and the image the manifests refer to.
 */
class KubernetesManifestsTest {
    private static final String MAIN_CONTAINER = "flink-main-container";
    private static final String GPU_LIMIT = "nvidia.com/gpu";

    private static Path root;
    private static List<JsonNode> flinkDocs;
    private static List<JsonNode> kafkaDocs;
    private static JsonNode deployment;
    private static JobConfig jobConfig;

    @BeforeAll
    static void load() throws IOException {
        root = ClusterPaths.repositoryRoot();
        flinkDocs = readAll(root.resolve("deploy/k8s/flink-anomaly.yaml"));
        kafkaDocs = readAll(root.resolve("deploy/k8s/kafka.yaml"));
        deployment = only(flinkDocs, "FlinkDeployment");
        jobConfig = JobConfig.parse(strings(deployment.at("/spec/job/args")), new Configuration());
    }

    @Test
    void flinkDeploymentHasTheFieldsTheOperatorReads() {
        assertEquals("flink.apache.org/v1beta1", deployment.path("apiVersion").asText());
        JsonNode spec = deployment.path("spec");
        // The operator's FlinkVersion enum for the Flink the jobs are built against (2.2.1 -> v2_2).
        String[] flink = EnvironmentInformation.getVersion().split("\\.");
        assertEquals("v" + flink[0] + "_" + flink[1], spec.path("flinkVersion").asText());
        assertEquals("standalone", spec.path("mode").asText(), "the extra CPU TaskManager pool needs standalone mode");
        assertFalse(spec.path("image").asText().isBlank(), "spec.image");
        for (String component : List.of("jobManager", "taskManager")) {
            JsonNode resource = spec.path(component).path("resource");
            assertTrue(
                    MemorySize.parse(resource.path("memory").asText()).getMebiBytes() >= 1024,
                    component + ".resource.memory");
            assertTrue(resource.path("cpu").asDouble() > 0, component + ".resource.cpu");
        }
        assertTrue(spec.at("/taskManager/replicas").asInt() >= 1, "taskManager.replicas");
    }

    @Test
    void jobPointsAtTheImagesJarAndARealEntryClass() throws Exception {
        JsonNode job = deployment.at("/spec/job");
        String jarUri = job.path("jarURI").asText();
        assertTrue(jarUri.startsWith("local:///opt/flink/usrlib/"), "jarURI must be in the image's usrlib: " + jarUri);
        String jarName = jarUri.substring(jarUri.lastIndexOf('/') + 1);
        assertTrue(
                read("deploy/k8s/image/build.sh").contains("usrlib/" + jarName),
                "build.sh must stage the job jar as usrlib/" + jarName);
        Class<?> entry = Class.forName(job.path("entryClass").asText());
        entry.getMethod("main", String[].class);
        assertTrue(job.path("parallelism").asInt() >= 1, "job.parallelism");
        assertTrue(Set.of("stateless", "savepoint", "last-state")
                .contains(job.path("upgradeMode").asText()));
    }

    @Test
    void jobArgumentsNameABundleThatShipsInTheImage() {
        String bundle = jobConfig.require(JobOptions.BUNDLE);
        assertTrue(
                bundle.startsWith("/opt/exitflow/models/"), "bundle must be under the image's models dir: " + bundle);
        String modelId = bundle.substring("/opt/exitflow/models/".length());
        assertTrue(
                Files.isRegularFile(root.resolve("models").resolve(modelId).resolve("manifest.json")),
                "models/" + modelId + " must be a bundle in the repository (build.sh copies models/ into the image)");
        assertTrue(read("deploy/k8s/image/Dockerfile").contains("/opt/exitflow/models/"));
    }

    @Test
    void gpuTaskManagersDeclareFlinksGpuResourceAndTheKubernetesLimit() {
        JsonNode conf = deployment.at("/spec/flinkConfiguration");
        assertTrue(
                List.of(conf.path("external-resources").asText().split(";")).contains("gpu"),
                "external-resources must list gpu");
        int amount = Integer.parseInt(conf.path("external-resource.gpu.amount").asText());
        assertTrue(amount >= 1, "external-resource.gpu.amount");
        assertEquals(
                "org.apache.flink.externalresource.gpu.GPUDriverFactory",
                conf.path("external-resource.gpu.driver-factory.class").asText());
        assertEquals(
                GPU_LIMIT,
                conf.path("external-resource.gpu.kubernetes.config-key").asText());
        String script =
                conf.path("external-resource.gpu.param.discovery-script.path").asText();
        assertTrue(script.startsWith("/opt/flink/plugins/external-resource-gpu/"), script);
        String dockerfile = read("deploy/k8s/image/Dockerfile");
        int slash = script.lastIndexOf('/');
        assertTrue(
                dockerfile.contains(script.substring(0, slash)) && dockerfile.contains(script.substring(slash)),
                "the image must provide (and check for) the discovery script " + script);
        assertEquals(
                "--enable-coordination-mode",
                conf.path("external-resource.gpu.param.discovery-script.args").asText());

        JsonNode container = mainContainer(deployment.at("/spec/taskManager/podTemplate/spec/containers"));
        assertEquals(
                amount,
                container.at("/resources/limits").path(GPU_LIMIT).asInt(),
                "the pod's nvidia.com/gpu limit must equal external-resource.gpu.amount");
        assertEquals("1", env(container).get("ORT_DISABLE_TELEMETRY"));
        assertTrue(conf.path("classloader.parent-first-patterns.additional")
                .asText()
                .contains("ai.onnxruntime."));
    }

    @Test
    void deepStagesRunOnCudaInAGpuGroupThatFitsOnAGpuTaskManager() {
        String bundle = jobConfig.require(JobOptions.BUNDLE);
        Path bundleDir = root.resolve("models").resolve(bundle.substring("/opt/exitflow/models/".length()));
        int stages = ModelBundle.load(bundleDir).manifest().numStages();
        EarlyExit.Mode mode = jobConfig.get(JobOptions.MODE);
        assertEquals(EarlyExit.Mode.SPLIT, mode, "stages go to different pools only as separate operators");
        StagePlacement placement = StagePlacement.of(jobConfig, mode, stages);
        assertEquals(OrtConfig.Device.CPU, placement.device(0), "stage 0 answers most events: CPU");
        assertEquals(OrtConfig.Device.CUDA, placement.device(stages - 1), "the deepest stage: CUDA");
        Map<String, SlotSharingGroup> gpuGroups = new HashMap<>();
        placement.gpuSlotSharingGroups().forEach(g -> gpuGroups.put(g.getName(), g));
        Map<String, Integer> slotsPerGroup = new HashMap<>();
        int jobParallelism = deployment.at("/spec/job/parallelism").asInt();
        for (int k = 0; k < stages; k++) {
            String group = placement.slotSharingGroup(k);
            boolean cuda = placement.device(k) == OrtConfig.Device.CUDA;
            assertEquals(
                    cuda,
                    gpuGroups.containsKey(group),
                    "stage " + k + " (" + placement.device(k) + ") in group " + group
                            + ": a group asks for a GPU exactly when it holds a CUDA stage");
            // A group's slots: its widest stage (stages of one group share slots).
            slotsPerGroup.merge(group, placement.parallelism(k).orElse(jobParallelism), Math::max);
        }

        // The GPU TaskManager as Flink sizes it from the FlinkDeployment, and the default slot the spread-out
        // scheduler may put on it (taskmanager.load-balance.mode: SLOTS): what is left must hold its gpu slots.
        JsonNode flinkConf = deployment.at("/spec/flinkConfiguration");
        assertEquals(
                "SLOTS",
                flinkConf.path("taskmanager.load-balance.mode").asText(),
                "spread slots out, so default-group slots do not fill the GPU TaskManagers");
        Configuration tmConf = new Configuration();
        flinkConf
                .fields()
                .forEachRemaining(e -> tmConf.setString(e.getKey(), e.getValue().asText()));
        tmConf.setString(
                "taskmanager.memory.process.size",
                deployment.at("/spec/taskManager/resource/memory").asText());
        WorkerResourceSpec gpuWorker =
                WorkerResourceSpec.fromTaskExecutorProcessSpec(TaskExecutorProcessUtils.processSpecFromConfig(tmConf));
        int slots =
                Integer.parseInt(flinkConf.path("taskmanager.numberOfTaskSlots").asText());
        ResourceProfile free = SlotManagerUtils.generateTaskManagerTotalResourceProfile(gpuWorker)
                .subtract(SlotManagerUtils.generateDefaultSlotResourceProfile(gpuWorker, slots));
        int gpuTaskManagers = deployment.at("/spec/taskManager/replicas").asInt();
        for (SlotSharingGroup g : gpuGroups.values()) {
            ResourceProfile slot =
                    ResourceProfile.fromResourceSpec(SlotSharingGroupUtils.extractResourceSpec(g), MemorySize.ZERO);
            int perTaskManager = (slotsPerGroup.get(g.getName()) + gpuTaskManagers - 1) / gpuTaskManagers;
            assertTrue(
                    free.allFieldsNoLessThan(slot.multiply(perTaskManager)),
                    perTaskManager + " slot(s) of group " + g.getName() + " (" + slot
                            + ") must fit on a GPU TaskManager beside one default slot: " + free);
        }
    }

    @Test
    void cpuPoolJoinsTheSameJobManagerWithoutGpus() throws IOException {
        JsonNode cpu = only(flinkDocs, "Deployment");
        assertEquals("apps/v1", cpu.path("apiVersion").asText());
        JsonNode pod = cpu.at("/spec/template");
        JsonNode selector = cpu.at("/spec/selector/matchLabels");
        selector.fields()
                .forEachRemaining(e -> assertEquals(
                        e.getValue().asText(),
                        pod.at("/metadata/labels").path(e.getKey()).asText(),
                        "pod labels must match the selector"));
        JsonNode container = mainContainer(pod.at("/spec/containers"));
        assertEquals(
                deployment.at("/spec/image").asText(), container.path("image").asText(), "one image for both pools");
        assertEquals("taskmanager", container.at("/args/0").asText());
        assertTrue(container.at("/resources/limits").path(GPU_LIMIT).isMissingNode(), "CPU pool asks for no GPU");
        Map<String, String> env = env(container);
        assertEquals("1", env.get("ORT_DISABLE_TELEMETRY"));
        String jobManager = deployment.at("/metadata/name").asText();
        assertEquals(jobManager, env.get("JOB_MANAGER_RPC_ADDRESS"));
        JsonNode properties = new ObjectMapper(new YAMLFactory()).readTree(env.get("FLINK_PROPERTIES"));
        assertEquals(jobManager, properties.path("jobmanager.rpc.address").asText());
        assertTrue(properties.path("external-resources").isMissingNode(), "CPU TaskManagers have no gpu resource");
        assertTrue(properties
                .path("classloader.parent-first-patterns.additional")
                .asText()
                .contains("ai.onnxruntime."));
        assertEquals(
                deployment.at("/metadata/namespace").asText(),
                cpu.at("/metadata/namespace").asText());
    }

    /**
     * Flink's Prometheus reporter on every pod of both pools, on a container port named {@code metrics} that the
     * PodMonitor of monitoring.yaml scrapes on the pods of this deployment (the operator labels its pods
     * {@code app: <FlinkDeployment name>}; the CPU pool carries the same label), and a plugin the image must have.
     */
    @Test
    void everyPodServesPrometheusMetricsThatThePodMonitorScrapes() throws IOException {
        String factory = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory";
        JsonNode conf = deployment.at("/spec/flinkConfiguration");
        assertEquals(factory, conf.path("metrics.reporter.prom.factory.class").asText());
        int port = Integer.parseInt(conf.path("metrics.reporter.prom.port").asText());
        for (String component : List.of("jobManager", "taskManager")) {
            JsonNode container = mainContainer(deployment.at("/spec/" + component + "/podTemplate/spec/containers"));
            assertEquals(port, containerPort(container, "metrics"), component + ": container port metrics");
        }
        JsonNode cpu = only(flinkDocs, "Deployment");
        JsonNode cpuContainer = mainContainer(cpu.at("/spec/template/spec/containers"));
        JsonNode properties =
                new ObjectMapper(new YAMLFactory()).readTree(env(cpuContainer).get("FLINK_PROPERTIES"));
        assertEquals(
                factory, properties.path("metrics.reporter.prom.factory.class").asText());
        assertEquals(port, properties.path("metrics.reporter.prom.port").asInt());
        assertEquals(port, containerPort(cpuContainer, "metrics"), "CPU pool: container port metrics");

        List<JsonNode> monitoring = readAll(root.resolve("deploy/k8s/monitoring.yaml"));
        JsonNode monitor = only(monitoring, "PodMonitor");
        assertEquals(
                deployment.at("/metadata/namespace").asText(),
                monitor.at("/metadata/namespace").asText());
        JsonNode selector = monitor.at("/spec/selector/matchLabels");
        assertEquals(
                Map.of("app", deployment.at("/metadata/name").asText()),
                Map.of("app", selector.path("app").asText()),
                "the operator's pod label app: <deployment name>");
        assertEquals(1, selector.size(), "select by app only (both pools and the JobManager)");
        assertEquals(
                deployment.at("/metadata/name").asText(),
                cpu.at("/spec/template/metadata/labels/app").asText());
        assertEquals("metrics", monitor.at("/spec/podMetricsEndpoints/0/port").asText());
        assertTrue(
                read("deploy/k8s/image/Dockerfile").contains("/opt/flink/plugins/metrics-prometheus/"),
                "the image checks for the reporter plugin");
    }

    @Test
    void kafkaTopicsAreExactlyTheTopicsTheJobUses() {
        JsonNode kafka = only(kafkaDocs, "Kafka");
        String cluster = kafka.at("/metadata/name").asText();
        JsonNode listener = null;
        for (JsonNode l : kafka.at("/spec/kafka/listeners")) {
            if (!l.path("tls").asBoolean()) {
                listener = l;
            }
        }
        assertTrue(listener != null, "a plain listener");
        String namespace = kafka.at("/metadata/namespace").asText();
        assertEquals(
                cluster + "-kafka-bootstrap." + namespace + ".svc:"
                        + listener.path("port").asInt(),
                jobConfig.require(JobOptions.BOOTSTRAP_SERVERS));

        Map<String, JsonNode> topics = new HashMap<>();
        for (JsonNode doc : kafkaDocs) {
            if ("KafkaTopic".equals(doc.path("kind").asText())) {
                assertEquals(
                        cluster,
                        doc.at("/metadata/labels").path("strimzi.io/cluster").asText());
                assertEquals(namespace, doc.at("/metadata/namespace").asText());
                topics.put(doc.at("/metadata/name").asText(), doc);
            }
        }
        Set<String> used = new TreeSet<>();
        for (ConfigOption<String> topic : List.of(
                JobOptions.INPUT_TOPIC,
                JobOptions.PREDICTION_TOPIC,
                JobOptions.ALERT_TOPIC,
                JobOptions.DEAD_LETTER_TOPIC,
                JobOptions.STATS_TOPIC,
                JobOptions.CONTROL_TOPIC)) {
            used.add(jobConfig.require(topic));
        }
        assertEquals(used, new TreeSet<>(topics.keySet()));
        int parallelism = deployment.at("/spec/job/parallelism").asInt();
        assertTrue(
                topics.get(jobConfig.require(JobOptions.INPUT_TOPIC))
                                .at("/spec/partitions")
                                .asInt()
                        >= parallelism,
                "input partitions bound the source parallelism");
        assertEquals(
                1,
                topics.get(jobConfig.require(JobOptions.CONTROL_TOPIC))
                        .at("/spec/partitions")
                        .asInt(),
                "threshold updates must stay in order");
        assertEquals(namespace, deployment.at("/metadata/namespace").asText());
    }

    @Test
    void imageCarriesOrtInLibTheJobInUsrlibAndTurnsTelemetryOff() {
        String dockerfile = read("deploy/k8s/image/Dockerfile");
        assertTrue(dockerfile.contains("COPY build/lib/ /opt/flink/lib/"));
        assertTrue(dockerfile.contains("COPY build/usrlib/ /opt/flink/usrlib/"));
        assertTrue(dockerfile.contains("ORT_DISABLE_TELEMETRY=1"));
        String build = read("deploy/k8s/image/build.sh");
        assertTrue(
                build.contains("onnxruntime_gpu") && build.contains("$build/lib"),
                "build.sh must stage the ONNX Runtime GPU jar into build/lib");
    }

    private static List<JsonNode> readAll(Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper(new YAMLFactory());
        List<JsonNode> docs = new ArrayList<>();
        try (YAMLParser parser = new YAMLFactory().createParser(file.toFile())) {
            mapper.readValues(parser, JsonNode.class).forEachRemaining(d -> {
                if (d != null && !d.isNull()) {
                    docs.add(d);
                }
            });
        }
        return docs;
    }

    private static JsonNode only(List<JsonNode> docs, String kind) {
        List<JsonNode> found =
                docs.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
        assertEquals(1, found.size(), "exactly one " + kind);
        return found.get(0);
    }

    private static JsonNode mainContainer(JsonNode containers) {
        List<JsonNode> found = new ArrayList<>();
        containers.forEach(c -> {
            if (MAIN_CONTAINER.equals(c.path("name").asText())) {
                found.add(c);
            }
        });
        assertEquals(1, found.size(), "one container named " + MAIN_CONTAINER + " (the operator merges into it)");
        return found.get(0);
    }

    private static int containerPort(JsonNode container, String name) {
        for (JsonNode p : container.path("ports")) {
            if (name.equals(p.path("name").asText())) {
                return p.path("containerPort").asInt();
            }
        }
        return -1;
    }

    private static Map<String, String> env(JsonNode container) {
        Map<String, String> env = new HashMap<>();
        container
                .path("env")
                .forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
        return env;
    }

    private static String[] strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out.toArray(String[]::new);
    }

    private static String read(String relative) {
        try {
            return Files.readString(root.resolve(relative));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + relative, e);
        }
    }
}
