package io.exitflow.runtime.operator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.runtime.record.RejectedRequest;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/** What travels between split stages is a POJO of primitive arrays (Flink's POJO serializer, never Kryo). */
class InFlightEventTest {
    @Test
    void travelsWithThePojoSerializerAndKeepsEveryField() throws Exception {
        TypeInformation<InFlightEvent> type = TypeInformation.of(InFlightEvent.class);
        assertInstanceOf(PojoTypeInfo.class, type);
        assertInstanceOf(PojoTypeInfo.class, TypeInformation.of(InferenceRequest.class));
        assertInstanceOf(PojoTypeInfo.class, TypeInformation.of(RejectedRequest.class));
        SerializerConfigImpl config = new SerializerConfigImpl();
        config.setGenericTypes(false); // any Kryo fallback would now throw
        TypeSerializer<InFlightEvent> ser = type.createSerializer(config);

        InFlightEvent e = InFlightEvent.start(
                new InferenceRequest("id", "key", 42L, new float[] {1f}, "beta"), new float[] {0.5f, -1f}, 3, true);
        e.carry = new float[] {1f, 2f, 3f};
        e.stagesRun = 1;
        e.stageLatencyMicros[0] = 17;
        e.sampleScores[0] = 0.25f;
        e.sampleClasses[0] = 2;
        e.exitStage = 0;
        e.exitClass = 2;
        e.exitProbability = 0.5f;
        e.thresholdVersion = 9;
        e.nextStage = 1;
        e.arrivalNanos = 123;

        DataOutputSerializer out = new DataOutputSerializer(256);
        ser.serialize(e, out);
        InFlightEvent back = ser.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertEquals("id", back.eventId);
        assertEquals("key", back.key);
        assertEquals(42L, back.eventTime);
        assertEquals("beta", back.label);
        assertEquals(1, back.nextStage);
        assertArrayEquals(e.state, back.state);
        assertArrayEquals(e.carry, back.carry);
        assertEquals(1, back.stagesRun);
        assertArrayEquals(e.stageLatencyMicros, back.stageLatencyMicros);
        assertTrue(back.sampled);
        assertArrayEquals(e.sampleScores, back.sampleScores);
        assertArrayEquals(e.sampleClasses, back.sampleClasses);
        assertEquals(0, back.exitStage);
        assertEquals(2, back.exitClass);
        assertEquals(0.5f, back.exitProbability);
        assertEquals(9L, back.thresholdVersion);
        assertEquals(0L, back.arrivalNanos, "arrival time is local to one operator");
    }

    @Test
    void theSamplerIsDeterministicAndNearItsRate() {
        FullDepthSampler s = new FullDepthSampler(0.1);
        int hits = 0;
        for (int i = 0; i < 20000; i++) {
            boolean a = s.sample("event-" + i);
            assertEquals(a, s.sample("event-" + i));
            hits += a ? 1 : 0;
        }
        assertTrue(hits > 1600 && hits < 2400, "about 10% of 20000, got " + hits);
        assertEquals(false, new FullDepthSampler(0).sample("x"));
        assertEquals(true, new FullDepthSampler(1).sample("x"));
    }

    @Test
    void settingsRejectNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new CascadeSettings(0, 2, true, 0, 1, 0, 0, 1, true));
        assertThrows(IllegalArgumentException.class, () -> new CascadeSettings(0, 2, true, 8, 1, 1.5, 0, 1, true));
        assertThrows(IllegalArgumentException.class, () -> new CascadeSettings(2, 1, true, 8, 1, 0, 0, 1, true));
    }
}
