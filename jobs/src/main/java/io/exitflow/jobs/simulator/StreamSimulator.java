package io.exitflow.jobs.simulator;

import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.KafkaClientProperties;
import io.exitflow.schemas.SensorReading;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams the sensor dataset into Kafka: readings of many simulated sensors ({@link SensorFleet}, the same
 * records as the dataset files, labels included), at rates that follow a {@link RateSchedule}, with a share of
 * bad records ({@link BadRecords}) mixed in for the dead-letter path. Bad records are sent in addition to the
 * good ones, so the good stream stays exactly the dataset's.
 *
 * <pre>java ... io.exitflow.jobs.simulator.StreamSimulator --bootstrap-servers localhost:9092 [--kafka-properties FILE] \
 *     [--topic sensor-readings] [--schedule 60s@2000,30s@4000] [--sensors 16] [--split test] \
 *     [--bad-share 0.01] [--max-events N] [--start-time dataset|now|EPOCH_MS] [--seed 7]</pre>
 */
public final class StreamSimulator implements Runnable, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StreamSimulator.class);

    /** Called for every good reading sent (for example to time end-to-end latency); runs on the sender thread. */
    @FunctionalInterface
    public interface SendListener {
        void onSent(SensorReading reading, long sentNanos);
    }

    /** Settings, with the defaults above. */
    public static final class Settings {
        String bootstrapServers;
        String topic = "sensor-readings";
        RateSchedule schedule = RateSchedule.parse("60s@2000");
        int sensors = 16;
        String split = "test";
        long seed = SensorFleet.DATASET_SEED;
        double badShare = 0.01;
        long maxEvents = Long.MAX_VALUE;
        String startTime = "dataset";
        Properties clientProperties = KafkaClientProperties.none();

        public Settings bootstrapServers(String s) { this.bootstrapServers = s; return this; }
        /** Producer settings (security, tuning) besides the simulator's own, as from {@code --kafka-properties}. */
        public Settings clientProperties(Properties p) { this.clientProperties = p; return this; }
        public Settings topic(String s) { this.topic = s; return this; }
        public Settings schedule(RateSchedule s) { this.schedule = s; return this; }
        public Settings sensors(int n) { this.sensors = n; return this; }
        public Settings split(String s) { this.split = s; return this; }
        public Settings seed(long s) { this.seed = s; return this; }
        /** Share of extra bad records per good one, in [0, 1). */
        public Settings badShare(double s) { this.badShare = s; return this; }
        /** Stop after this many good readings. */
        public Settings maxEvents(long n) { this.maxEvents = n; return this; }
        /** {@code dataset} (the files' times), {@code now} (rebased to the wall clock at start) or epoch millis. */
        public Settings startTime(String s) { this.startTime = s; return this; }

        long startMillis() {
            switch (startTime) {
                case "dataset": return SensorFleet.DATASET_START_MILLIS;
                case "now": return System.currentTimeMillis();
                default:
                    try {
                        return Long.parseLong(startTime);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--start-time must be dataset, now or epoch milliseconds, got '"
                                + startTime + "'");
                    }
            }
        }

        void validate() {
            if (bootstrapServers == null || bootstrapServers.isBlank()) {
                throw new IllegalArgumentException("missing --bootstrap-servers");
            }
            if (!(badShare >= 0 && badShare < 1)) {
                throw new IllegalArgumentException("--bad-share must be in [0, 1), got " + badShare);
            }
            if (maxEvents <= 0) {
                throw new IllegalArgumentException("--max-events must be positive, got " + maxEvents);
            }
        }
    }

    private final Settings settings;
    private final Producer<byte[], byte[]> producer;
    private final SendListener listener;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong bad = new AtomicLong();
    private final Map<BadRecords.Kind, AtomicLong> badByKind = new EnumMap<>(BadRecords.Kind.class);
    private final AtomicReference<Exception> sendError = new AtomicReference<>();
    private volatile boolean stopped;
    private volatile double currentRate;

    /** A simulator with its own Kafka producer. */
    public StreamSimulator(Settings settings, SendListener listener) {
        this(settings, newProducer(settings), listener);
    }

    StreamSimulator(Settings settings, Producer<byte[], byte[]> producer, SendListener listener) {
        settings.validate();
        this.settings = settings;
        this.producer = producer;
        this.listener = listener == null ? (r, t) -> { } : listener;
        for (BadRecords.Kind k : BadRecords.Kind.values()) {
            badByKind.put(k, new AtomicLong());
        }
    }

    private static Producer<byte[], byte[]> newProducer(Settings s) {
        s.validate();
        Properties p = new Properties();
        p.putAll(s.clientProperties); // first: the simulator's own settings below win
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true"); // no duplicates or reordering on retries
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "exitflow-simulator");
        return new KafkaProducer<>(p);
    }

    /** Sends until the schedule ends, {@code maxEvents} good readings are sent, or {@link #stop()}. */
    @Override
    public void run() {
        SensorFleet fleet = new SensorFleet(settings.split, settings.sensors, settings.seed, settings.startMillis());
        BadRecords badRecords = new BadRecords(settings.seed ^ 0x5EED);
        SplittableRandom coin = new SplittableRandom(settings.seed ^ 0xC011L);
        AvroCodec<SensorReading> codec = AvroCodec.of(SensorReading.class);
        RateSchedule schedule = settings.schedule;
        long total = schedule.totalMillis();
        BadRecords.Kind[] kind = new BadRecords.Kind[1];
        long start = System.nanoTime();
        LOG.info("simulator: {} sensors of split {}, schedule {}, bad share {}, to topic {}", settings.sensors,
                settings.split, schedule, settings.badShare, settings.topic);
        while (!stopped && sent.get() < settings.maxEvents) {
            checkSendError();
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            if (elapsedMillis >= total) {
                break;
            }
            currentRate = schedule.rateAt(elapsedMillis);
            long due = Math.min(settings.maxEvents, (long) schedule.eventsDueAt(elapsedMillis));
            if (sent.get() >= due) {
                sleepMillis(1);
                continue;
            }
            while (sent.get() < due && !stopped) {
                SensorReading r = fleet.next();
                byte[] key = r.getSensorId().getBytes(StandardCharsets.UTF_8);
                producer.send(new ProducerRecord<>(settings.topic, key, codec.encode(r)), this::onCompletion);
                listener.onSent(r, System.nanoTime());
                sent.incrementAndGet();
                if (settings.badShare > 0 && coin.nextDouble() < settings.badShare) {
                    producer.send(new ProducerRecord<>(settings.topic, key, badRecords.next(r, kind)), this::onCompletion);
                    bad.incrementAndGet();
                    badByKind.get(kind[0]).incrementAndGet();
                }
            }
        }
        currentRate = 0;
        producer.flush();
        checkSendError();
        LOG.info("simulator: done, {} readings and {} bad records sent", sent.get(), bad.get());
    }

    private void onCompletion(org.apache.kafka.clients.producer.RecordMetadata m, Exception e) {
        if (e != null) {
            sendError.compareAndSet(null, e);
        }
    }

    private void checkSendError() {
        Exception e = sendError.get();
        if (e != null) {
            throw new IllegalStateException("simulator: a send to " + settings.topic + " failed", e);
        }
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("simulator interrupted", e);
        }
    }

    /** Asks {@link #run()} to finish after the record in flight. */
    public void stop() {
        stopped = true;
    }

    /** Good readings sent so far. */
    public long sent() {
        return sent.get();
    }

    /** Bad records sent so far. */
    public long badSent() {
        return bad.get();
    }

    /** Bad records sent so far, by kind. */
    public Map<BadRecords.Kind, Long> badByKind() {
        Map<BadRecords.Kind, Long> out = new EnumMap<>(BadRecords.Kind.class);
        badByKind.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** Rate the schedule asks for now (events/s; 0 when finished). */
    public double currentRate() {
        return currentRate;
    }

    @Override
    public void close() {
        stopped = true;
        producer.close();
    }

    /** Command line: see the class comment. */
    public static void main(String[] args) {
        Settings s = parse(args);
        try (StreamSimulator sim = new StreamSimulator(s, null)) {
            Runtime.getRuntime().addShutdownHook(new Thread(sim::stop));
            long t0 = System.nanoTime();
            sim.run();
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "sent %d readings and %d bad records in %.1f s (%.0f readings/s)%n",
                    sim.sent(), sim.badSent(), seconds, sim.sent() / seconds);
        }
    }

    static Settings parse(String[] args) {
        Settings s = new Settings();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                System.out.println("usage: StreamSimulator --bootstrap-servers HOST:PORT [--kafka-properties FILE]"
                        + " [--topic sensor-readings]"
                        + " [--schedule 60s@2000,30s@4000] [--sensors 16] [--split test] [--bad-share 0.01]"
                        + " [--max-events N] [--start-time dataset|now|EPOCH_MS] [--seed 7]");
                System.exit(0);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--bootstrap-servers" -> s.bootstrapServers(v);
                case "--kafka-properties" -> s.clientProperties(KafkaClientProperties.load(Path.of(v)));
                case "--topic" -> s.topic(v);
                case "--schedule" -> s.schedule(RateSchedule.parse(v));
                case "--sensors" -> s.sensors(Integer.parseInt(v));
                case "--split" -> s.split(v);
                case "--seed" -> s.seed(Long.parseLong(v));
                case "--bad-share" -> s.badShare(Double.parseDouble(v));
                case "--max-events" -> s.maxEvents(Long.parseLong(v));
                case "--start-time" -> s.startTime(v);
                default -> throw new IllegalArgumentException("unknown argument " + a + " (--help lists them)");
            }
        }
        return s;
    }
}
