package io.exitflow.jobs.simulator;

import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.CommandLine;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.common.KafkaClientProperties;
import io.exitflow.jobs.common.RecordEncoder;
import io.exitflow.jobs.common.SchemaRegistrySettings;
import io.exitflow.schemas.SensorReading;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams sensor readings into Kafka at rates that follow a {@link RateSchedule}: either the sensor dataset's
 * (many simulated sensors, {@link SensorFleet}, the same records as the dataset files, labels included) or a
 * user's recordings ({@code --readings FILE.avro}, an Avro container file of {@code SensorReading}, replayed by
 * {@link ReadingsReplay}: each recording's times rebased to the start time, recordings in turns, labels kept).
 * A share of bad records ({@link BadRecords}) is mixed in for the dead-letter path, in addition to the good ones,
 * so the good stream stays exactly the dataset's or the file's.
 *
 * <p>Wire format: each reading is one Kafka record, key the sensor id (UTF-8), value the plain Avro binary
 * encoding of one {@code SensorReading} ({@link AvroCodec}), no header; with {@code --schema-registry-url} the
 * schema registry wire format instead ({@link RecordEncoder}: magic byte, the id of {@code SensorReading}'s schema
 * under the topic's subject, registered on first use, then the binary encoding), as the job reads with the same
 * flag. Bad records are then framed with that id too (but the garbage ones), so they reach the job's decoding.
 *
 * <pre>java ... io.exitflow.jobs.simulator.StreamSimulator --bootstrap-servers localhost:9092 [--kafka-properties FILE] \
 *     [--schema-registry-url URL [--schema-registry-properties FILE]] \
 *     [--topic sensor-readings] [--schedule 60s@2000,30s@4000] [--sensors 16] [--split test] \
 *     [--readings FILE.avro [--loop on|off] [--end-flush on|off]] \
 *     [--bad-share 0.01] [--max-events N] [--start-time dataset|now|EPOCH_MS] [--seed 7]</pre>
 *
 * The settings, their defaults and meanings are {@link SimulatorOptions}; {@code --help} lists them.
 */
public final class StreamSimulator implements Runnable, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StreamSimulator.class);

    /** Called for every good reading sent (for example to time end-to-end latency); runs on the sender thread. */
    @FunctionalInterface
    public interface SendListener {
        void onSent(SensorReading reading, long sentNanos);
    }

    /** Settings, starting from the defaults of {@link SimulatorOptions}. */
    public static final class Settings {
        String bootstrapServers;
        String topic = SimulatorOptions.TOPIC.defaultValue();
        RateSchedule schedule = RateSchedule.parse(SimulatorOptions.SCHEDULE.defaultValue());
        int sensors = SimulatorOptions.SENSORS.defaultValue();
        String split = SimulatorOptions.SPLIT.defaultValue();
        long seed = SimulatorOptions.SEED.defaultValue();
        double badShare = SimulatorOptions.BAD_SHARE.defaultValue();
        long maxEvents = Long.MAX_VALUE;
        String startTime = SimulatorOptions.START_TIME.defaultValue();
        Properties clientProperties = KafkaClientProperties.none();
        RecordedReadings readings;
        boolean loop = SimulatorOptions.LOOP.defaultValue().on();
        boolean endFlush = SimulatorOptions.END_FLUSH.defaultValue().on();
        Duration maxCatchUp = SimulatorOptions.MAX_CATCH_UP.defaultValue();
        SchemaRegistrySettings schemaRegistry;

        public Settings bootstrapServers(String s) {
            this.bootstrapServers = s;
            return this;
        }
        /** Producer settings (security, tuning) besides the simulator's own, as from {@code --kafka-properties}. */
        public Settings clientProperties(Properties p) {
            this.clientProperties = p;
            return this;
        }

        public Settings topic(String s) {
            this.topic = s;
            return this;
        }

        public Settings schedule(RateSchedule s) {
            this.schedule = s;
            return this;
        }

        public Settings sensors(int n) {
            this.sensors = n;
            return this;
        }

        public Settings split(String s) {
            this.split = s;
            return this;
        }

        public Settings seed(long s) {
            this.seed = s;
            return this;
        }
        /** Share of extra bad records per good one, in [0, 1). */
        public Settings badShare(double s) {
            this.badShare = s;
            return this;
        }
        /** Stop after this many good readings. */
        public Settings maxEvents(long n) {
            this.maxEvents = n;
            return this;
        }
        /**
         * {@code dataset} (the dataset files' times; with readings, every recording rebased to the file's earliest
         * time), {@code now} (rebased to the wall clock at start) or epoch millis (rebased to it).
         */
        public Settings startTime(String s) {
            this.startTime = s;
            return this;
        }
        /** Replay these recordings instead of the generator's sensors ({@code --readings FILE.avro}). */
        public Settings readings(RecordedReadings r) {
            this.readings = r;
            return this;
        }
        /** With readings: start each recording again, as a new pass, when it ends (until the schedule ends). */
        public Settings loop(boolean b) {
            this.loop = b;
            return this;
        }
        /** With readings, after the last one: {@link #sendEndFlush()} (releases the recordings' last windows). */
        public Settings endFlush(boolean b) {
            this.endFlush = b;
            return this;
        }
        /**
         * Most of the schedule's time a sender that fell behind sends at once to catch up; further behind, the
         * readings it could not send on time are given up ({@link FixedRatePacer}), so the rate holds.
         */
        public Settings maxCatchUp(Duration d) {
            this.maxCatchUp = d;
            return this;
        }
        /**
         * Write the schema registry wire format with this registry ({@code --schema-registry-url}); null (the
         * default) for plain Avro binary.
         */
        public Settings schemaRegistry(SchemaRegistrySettings r) {
            this.schemaRegistry = r;
            return this;
        }

        long startMillis() {
            switch (startTime) {
                case "dataset":
                    return readings != null ? readings.earliestStartMillis() : SensorFleet.DATASET_START_MILLIS;
                case "now":
                    return System.currentTimeMillis();
                default:
                    try {
                        return Long.parseLong(startTime);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException(
                                "--start-time must be dataset, now or epoch milliseconds, got '" + startTime + "'");
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
            if (readings == null && (loop || endFlush)) {
                throw new IllegalArgumentException("--loop and --end-flush apply to --readings only");
            }
            if (maxCatchUp == null || maxCatchUp.isNegative()) {
                throw new IllegalArgumentException("--max-catch-up must be a duration of 0 or more, got " + maxCatchUp);
            }
            startMillis(); // a bad --start-time fails here, before anything is sent
        }
    }

    private final Settings settings;
    private final Producer<byte[], byte[]> producer;
    private final SendListener listener;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong bad = new AtomicLong();
    /** Readings the schedule asked for that the sender could not send on time and gave up ({@link FixedRatePacer}). */
    private final AtomicLong shortfall = new AtomicLong();

    private final Map<BadRecords.Kind, AtomicLong> badByKind = new EnumMap<>(BadRecords.Kind.class);
    private final AtomicReference<Exception> sendError = new AtomicReference<>();
    private volatile boolean stopped;
    private volatile boolean exhausted;
    private volatile double currentRate;
    private volatile long lastEventTime = Long.MIN_VALUE;
    /** The readings' encoder (plain or registry format), made on first use; used on the sending thread. */
    private RecordEncoder<SensorReading> encoder;

    /** A simulator with its own Kafka producer. */
    public StreamSimulator(Settings settings, SendListener listener) {
        this(settings, newProducer(settings), listener);
    }

    StreamSimulator(Settings settings, Producer<byte[], byte[]> producer, SendListener listener) {
        settings.validate();
        this.settings = settings;
        this.producer = producer;
        this.listener = listener == null ? (r, t) -> {} : listener;
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
        ReadingSource source = settings.readings != null
                ? settings.readings.replay(settings.startMillis(), settings.loop)
                : new SensorFleet(settings.split, settings.sensors, settings.seed, settings.startMillis());
        BadRecords badRecords = new BadRecords(settings.seed ^ 0x5EED);
        SplittableRandom coin = new SplittableRandom(settings.seed ^ 0xC011L);
        RecordEncoder<SensorReading> codec = encoder();
        RateSchedule schedule = settings.schedule;
        long total = schedule.totalMillis();
        BadRecords.Kind[] kind = new BadRecords.Kind[1];
        FixedRatePacer pacer = new FixedRatePacer(schedule, settings.maxCatchUp);
        long start = System.nanoTime();
        long shortfallLoggedNanos = start;
        if (settings.readings != null) {
            LOG.info(
                    "simulator: replaying {}{}, rebased to start at {}, schedule {}, bad share {}, to topic {}",
                    settings.readings,
                    settings.loop ? " in a loop" : "",
                    Instant.ofEpochMilli(settings.startMillis()),
                    schedule,
                    settings.badShare,
                    settings.topic);
        } else {
            LOG.info(
                    "simulator: {} sensors of split {}, schedule {}, bad share {}, to topic {}",
                    settings.sensors,
                    settings.split,
                    schedule,
                    settings.badShare,
                    settings.topic);
        }
        while (!stopped && !exhausted && sent.get() < settings.maxEvents) {
            checkSendError();
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            if (elapsedMillis >= total) {
                break;
            }
            currentRate = schedule.rateAt(elapsedMillis);
            long due = Math.min(settings.maxEvents, sent.get() + pacer.toSend(elapsedMillis, sent.get()));
            if (pacer.shortfall() > shortfall.get()) {
                shortfall.set(pacer.shortfall());
                long now = System.nanoTime();
                if (now - shortfallLoggedNanos > 10_000_000_000L) {
                    shortfallLoggedNanos = now;
                    LOG.warn(
                            "simulator: behind the schedule's {} readings/s by more than --max-catch-up {}; {} "
                                    + "readings given up so far (sent {}); the sender or the broker is too slow for the rate",
                            String.format(Locale.ROOT, "%.0f", currentRate),
                            settings.maxCatchUp,
                            shortfall.get(),
                            sent.get());
                }
            }
            if (sent.get() >= due) {
                sleepMillis(1);
                continue;
            }
            while (sent.get() < due && !stopped) {
                SensorReading r = source.next();
                if (r == null) {
                    exhausted = true;
                    break;
                }
                lastEventTime = Math.max(lastEventTime, r.getEventTime().toEpochMilli());
                byte[] key = r.getSensorId().getBytes(StandardCharsets.UTF_8);
                producer.send(new ProducerRecord<>(settings.topic, key, codec.encode(r)), this::onCompletion);
                listener.onSent(r, System.nanoTime());
                sent.incrementAndGet();
                if (settings.badShare > 0 && coin.nextDouble() < settings.badShare) {
                    byte[] badValue = badRecords.next(r, kind);
                    producer.send(
                            new ProducerRecord<>(
                                    settings.topic,
                                    key,
                                    kind[0] == BadRecords.Kind.GARBAGE ? badValue : codec.frame(badValue)),
                            this::onCompletion);
                    bad.incrementAndGet();
                    badByKind.get(kind[0]).incrementAndGet();
                }
            }
        }
        currentRate = 0;
        if (exhausted && settings.endFlush) {
            sendEndFlush();
        }
        producer.flush();
        checkSendError();
        LOG.info(
                "simulator: done, {} readings and {} bad records sent{}; {} readings of the schedule given up "
                        + "(sender behind by more than --max-catch-up {})",
                sent.get(),
                bad.get(),
                exhausted ? " (every reading of " + settings.readings.file() + ")" : "",
                shortfall.get(),
                settings.maxCatchUp);
    }

    /** How far after the last reading sent {@link #sendEndFlush()} stamps its readings, in milliseconds. */
    public static final long END_FLUSH_AHEAD_MILLIS = 60_000;

    /** Sensor id of the end-flush reading sent to partition {@code p}. */
    public static String endFlushSensorId(int partition) {
        return "exitflow-end-flush-" + partition;
    }

    /**
     * Sends one reading to every partition of the topic, stamped {@link #END_FLUSH_AHEAD_MILLIS} after the
     * latest reading sent, under its own sensor id ({@link #endFlushSensorId}, no label, zeros of the readings'
     * channel count): it moves the job's event-time watermark on every partition past the recordings' last
     * windows, which otherwise wait for readings that never come. Each flush reading is a sensor's only reading,
     * so it makes no window itself. Does nothing when nothing was sent. Send it once the job has read the rest (the
     * demo waits for the job's committed offsets): a job still reading a backlog of another partition would find
     * those readings behind the moved watermark, and late.
     *
     * @throws IllegalStateException without readings (the generator's streams do not end)
     */
    public void sendEndFlush() {
        if (settings.readings == null) {
            throw new IllegalStateException("the end flush is for replays of --readings");
        }
        if (lastEventTime == Long.MIN_VALUE) {
            return;
        }
        int channels = settings.readings.channels();
        List<Float> zeros = new java.util.ArrayList<>(Collections.nCopies(channels, 0f));
        RecordEncoder<SensorReading> codec = encoder();
        long time = lastEventTime + END_FLUSH_AHEAD_MILLIS;
        int partitions = producer.partitionsFor(settings.topic).size();
        for (int p = 0; p < partitions; p++) {
            String id = endFlushSensorId(p);
            SensorReading r = SensorReading.newBuilder()
                    .setSensorId(id)
                    .setEventTime(Instant.ofEpochMilli(time))
                    .setValues(zeros)
                    .setLabel(null)
                    .setSeverity(null)
                    .build();
            producer.send(
                    new ProducerRecord<>(settings.topic, p, id.getBytes(StandardCharsets.UTF_8), codec.encode(r)),
                    this::onCompletion);
        }
        producer.flush();
        checkSendError();
        LOG.info(
                "simulator: end flush, one reading at {} to each of the {} partitions of {}",
                Instant.ofEpochMilli(time),
                partitions,
                settings.topic);
    }

    /**
     * The readings' encoder; with a registry its schema id is resolved here (registered on first use), waiting out
     * registry outages (logged, retried with back-off).
     */
    private RecordEncoder<SensorReading> encoder() {
        if (encoder == null) {
            RecordEncoder<SensorReading> e =
                    new RecordEncoder<>(SensorReading.class, settings.topic, settings.schemaRegistry);
            e.open(null);
            if (settings.schemaRegistry != null) {
                LOG.info(
                        "simulator: schema registry wire format, {} schema id {} (subject {}) at {}",
                        SensorReading.class.getSimpleName(),
                        e.schemaId(),
                        e.subject(),
                        String.join(",", settings.schemaRegistry.urls()));
            }
            encoder = e;
        }
        return encoder;
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

    /**
     * Readings the schedule asked for that were not sent because the sender fell behind by more than
     * {@code --max-catch-up} (given up rather than sent later above the rate).
     */
    public long shortfall() {
        return shortfall.get();
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

    /** Whether a replay without loop has sent every reading of its file. */
    public boolean exhausted() {
        return exhausted;
    }

    /** The latest event time sent so far, epoch milliseconds ({@code Long.MIN_VALUE} before the first). */
    public long lastEventTimeMillis() {
        return lastEventTime;
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
        Settings s;
        try {
            s = parse(args);
            s.validate();
        } catch (IllegalArgumentException e) {
            System.err.println("simulator: " + e.getMessage());
            System.exit(2);
            return;
        }
        try (StreamSimulator sim = new StreamSimulator(s, null)) {
            Runtime.getRuntime().addShutdownHook(new Thread(sim::stop));
            long t0 = System.nanoTime();
            sim.run();
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "sent %d readings and %d bad records in %.1f s (%.0f readings/s); %d "
                            + "readings of the schedule given up%n",
                    sim.sent(),
                    sim.badSent(),
                    seconds,
                    sim.sent() / seconds,
                    sim.shortfall());
        }
    }

    /** Usage of the command line, with every setting's default and meaning. */
    static String usage() {
        return "usage: StreamSimulator --bootstrap-servers HOST:PORT [--name value ...]\n"
                + CommandLine.of(SimulatorOptions.all()).help();
    }

    /**
     * Reads the command line ({@link SimulatorOptions}; {@code --help} prints the usage and exits).
     *
     * @throws IllegalArgumentException naming the flag, for an unknown flag, a bad value or flags that do not go
     *     together
     */
    static Settings parse(String[] args) {
        if (CommandLine.wantsHelp(args)) {
            System.out.println(usage());
            System.exit(0);
        }
        Configuration c = CommandLine.of(SimulatorOptions.all()).parse(args, new Configuration());
        Settings s = new Settings();
        c.getOptional(JobOptions.BOOTSTRAP_SERVERS).ifPresent(s::bootstrapServers);
        c.getOptional(JobOptions.KAFKA_PROPERTIES)
                .ifPresent(f -> s.clientProperties(KafkaClientProperties.load(Path.of(f))));
        SchemaRegistrySettings.from(c, s.clientProperties).ifPresent(s::schemaRegistry);
        s.topic(c.get(SimulatorOptions.TOPIC));
        s.schedule(schedule(c.get(SimulatorOptions.SCHEDULE)));
        s.sensors(c.get(SimulatorOptions.SENSORS));
        s.split(c.get(SimulatorOptions.SPLIT));
        c.getOptional(SimulatorOptions.READINGS).ifPresent(f -> s.readings(RecordedReadings.load(Path.of(f))));
        s.loop(c.get(SimulatorOptions.LOOP).on());
        s.endFlush(c.get(SimulatorOptions.END_FLUSH).on());
        s.seed(c.get(SimulatorOptions.SEED));
        s.badShare(c.get(SimulatorOptions.BAD_SHARE));
        c.getOptional(SimulatorOptions.MAX_EVENTS).ifPresent(s::maxEvents);
        s.startTime(c.get(SimulatorOptions.START_TIME));
        s.maxCatchUp(c.get(SimulatorOptions.MAX_CATCH_UP));
        String generatorFlag = c.containsKey(SimulatorOptions.SENSORS.key())
                ? "--sensors"
                : c.containsKey(SimulatorOptions.SPLIT.key()) ? "--split" : null;
        if (s.readings != null && generatorFlag != null) {
            throw new IllegalArgumentException(generatorFlag + " chooses the generator's sensors; with --readings the"
                    + " file's recordings are sent (drop " + generatorFlag + ")");
        }
        return s;
    }

    /**
     * A rate schedule from {@code --schedule}.
     *
     * @throws IllegalArgumentException naming {@code --schedule}
     */
    public static RateSchedule schedule(String text) {
        try {
            return RateSchedule.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--schedule: " + e.getMessage(), e);
        }
    }
}
