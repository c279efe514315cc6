package io.exitflow.runtime.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.runtime.TestBundles;
import io.exitflow.runtime.onnx.OrtConfig;
import io.exitflow.runtime.operator.EarlyExitOperator;
import io.exitflow.runtime.record.InferenceRequest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.junit.jupiter.api.Test;

/** SPLIT mode: each stage operator carries its own device, read back from the stream graph (nothing runs). */
class StageDevicesTest {
    private static Map<Integer, OrtConfig.Device> devicesByFirstStage(EarlyExit.Builder b) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        DataStream<InferenceRequest> in = env.fromData(List.of(new InferenceRequest("e", "k", 0L, new float[0], null)));
        EarlyExit.Result out =
                b.bundlePath(TestBundles.tiny().toString()).build().apply(in, null);
        out.predictions().print();
        Map<Integer, OrtConfig.Device> devices = new HashMap<>();
        for (StreamNode n : env.getStreamGraph().getStreamNodes()) {
            if (n.getOperatorFactory() instanceof SimpleOperatorFactory<?> f
                    && f.getOperator() instanceof EarlyExitOperator<?, ?> op) {
                devices.put(op.settings().firstStage(), op.ortConfig().device());
            }
        }
        return devices;
    }

    @Test
    void splitStagesRunOnTheirOwnDevices() {
        int k = EarlyExit.builder()
                .bundlePath(TestBundles.tiny().toString())
                .build()
                .numStages();
        assertTrue(k >= 2, "the tiny bundle has several stages");
        OrtConfig.Device[] wanted = new OrtConfig.Device[k];
        for (int i = 0; i < k; i++) {
            wanted[i] = i == 0 ? OrtConfig.Device.CPU : OrtConfig.Device.CUDA;
        }
        Map<Integer, OrtConfig.Device> got = devicesByFirstStage(
                EarlyExit.builder().mode(EarlyExit.Mode.SPLIT).stageDevices(wanted));
        assertEquals(k, got.size());
        for (int i = 0; i < k; i++) {
            assertEquals(wanted[i], got.get(i), "stage " + i);
        }
        // Without stageDevices every stage takes the builder's device.
        Map<Integer, OrtConfig.Device> all = devicesByFirstStage(
                EarlyExit.builder().mode(EarlyExit.Mode.SPLIT).device(OrtConfig.Device.CUDA));
        assertTrue(all.values().stream().allMatch(d -> d == OrtConfig.Device.CUDA), all.toString());
    }

    @Test
    void stageDevicesNeedSplitAndOnePerStage() {
        String bundle = TestBundles.tiny().toString();
        assertThrows(
                IllegalArgumentException.class,
                () -> EarlyExit.builder()
                        .bundlePath(bundle)
                        .mode(EarlyExit.Mode.CASCADE)
                        .stageDevices(OrtConfig.Device.CPU, OrtConfig.Device.CUDA, OrtConfig.Device.CUDA)
                        .build());
        assertThrows(
                IllegalArgumentException.class,
                () -> EarlyExit.builder()
                        .bundlePath(bundle)
                        .mode(EarlyExit.Mode.SPLIT)
                        .stageDevices(OrtConfig.Device.CPU)
                        .build());
    }
}
