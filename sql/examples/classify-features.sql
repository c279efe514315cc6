-- ExitFlow from Flink SQL: Avro FeatureEvents from Kafka, classified by the early-exit model features-mlp through
-- ML_PREDICT, predictions to Kafka as JSON. Runs on deploy/local (README, "Flink SQL: ML_PREDICT with early exit"):
--   deploy/local/submit.sh --jar sql/target/exitflow-sql-0.1.0-SNAPSHOT-provider.jar \
--     io.exitflow.sql.SqlScriptRunner "$PWD/sql/examples/classify-features.sql" --set EXITFLOW_HOME="$PWD"
-- In a SQL client, replace ${EXITFLOW_HOME} by the repository's absolute path (the bundle must be readable by
-- every TaskManager) and paste the statements.

CREATE TABLE feature_events (
  eventId STRING NOT NULL,
  `key` STRING NOT NULL,
  eventTime TIMESTAMP(3) NOT NULL,
  features ARRAY<FLOAT NOT NULL> NOT NULL,
  label STRING
) WITH (
  'connector' = 'kafka',
  'topic' = 'feature-events',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'properties.group.id' = 'exitflow-sql-example',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'avro'
);

CREATE TABLE predictions_sql (
  eventId STRING,
  label STRING,
  predicted_class STRING,
  probability FLOAT,
  exit_stage INT,
  stages_run INT,
  model_version STRING
) WITH (
  'connector' = 'kafka',
  'topic' = 'predictions-sql',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'format' = 'json'
);

CREATE MODEL fault_classifier
  INPUT (features ARRAY<FLOAT>)
  OUTPUT (predicted_class STRING, probability FLOAT, exit_stage INT, stages_run INT, model_version STRING)
  WITH (
    'provider' = 'exitflow',
    'bundle' = '${EXITFLOW_HOME}/models/features-mlp',
    'max-batch-size' = '64',
    'max-wait' = '20 ms'
  );

INSERT INTO predictions_sql
SELECT eventId, label, predicted_class, probability, exit_stage, stages_run, model_version
FROM ML_PREDICT(TABLE feature_events, MODEL fault_classifier, DESCRIPTOR(features),
                MAP['max-concurrent-operations', '256', 'output-mode', 'allow_unordered']);

-- Ten events of the dataset's test split (data/features/test.avro, two per class), in the classification job's
-- wire format (plain Avro FeatureEvent): the same topic the DataStream job reads.
INSERT INTO feature_events (eventId, `key`, eventTime, features, label) VALUES
  ('test-000@1767225601270', 'test-000', TIMESTAMP '2026-01-01 00:00:01.270', CAST(ARRAY[-0.01859, 0.9737, 1.940, 1.992, 1.856, 3.686, 1.924, 1.641, 0.8120, 1.331, 0.5823, 1.040, -0.004513, 0.9619, 2.351, 2.444, 0.9671, 3.833, 1.839, 0.9790, 0.7061, 1.268, 0.7256, 0.5808, -0.05780, 0.4202, 1.088, 2.564, 0.6796, 1.465, 0.6707, 0.9581, 0.6753, 0.9905, 0.6727, 0.6094] AS ARRAY<FLOAT NOT NULL>), 'looseness'),
  ('test-000@1767225601590', 'test-000', TIMESTAMP '2026-01-01 00:00:01.590', CAST(ARRAY[0.05015, 0.9322, 1.940, 2.078, 1.780, 3.625, 1.387, 1.455, 0.8721, 1.351, 0.7219, 1.266, -0.01112, 1.002, 2.351, 2.346, 1.037, 3.896, 2.036, 0.8792, 0.4639, 1.346, 1.079, 0.5791, -0.04743, 0.4443, 1.165, 2.607, 0.8068, 1.347, 0.8127, 1.035, 0.9679, 0.8037, 0.9443, 0.7223] AS ARRAY<FLOAT NOT NULL>), 'looseness'),
  ('test-000@1767225623030', 'test-000', TIMESTAMP '2026-01-01 00:00:23.030', CAST(ARRAY[-0.02862, 1.009, 2.124, 2.104, 2.345, 3.697, 0.7328, 1.381, 0.2779, 2.007, 0.4545, 2.369, 0.01440, 1.004, 1.966, 1.958, 0.2402, 4.022, 1.002, 1.174, 0.3704, 1.502, 0.7455, 0.3686, -0.01011, 0.3528, 0.9671, 2.740, 0.3750, 1.316, 0.1586, 0.4366, 0.3492, 1.311, 0.5310, 0.2459] AS ARRAY<FLOAT NOT NULL>), 'normal'),
  ('test-000@1767225623350', 'test-000', TIMESTAMP '2026-01-01 00:00:23.350', CAST(ARRAY[-0.03212, 0.9548, 2.124, 2.223, 1.873, 3.730, 0.6967, 1.272, 0.4373, 1.481, 0.8326, 1.881, 0.007400, 0.9575, 1.960, 2.047, 0.2242, 3.875, 1.603, 1.350, 0.4587, 1.130, 0.8066, 0.3948, 0.02587, 0.3493, 0.9671, 2.761, 0.4093, 1.337, 0.2605, 0.4151, 0.3503, 1.289, 0.3097, 0.2425] AS ARRAY<FLOAT NOT NULL>), 'normal'),
  ('test-001@1767225619190', 'test-001', TIMESTAMP '2026-01-01 00:00:19.190', CAST(ARRAY[-0.01455, 0.9636, 2.244, 2.328, 0.9637, 4.016, 1.066, 0.6912, 0.1090, 0.1273, 0.08075, 0.1107, -0.03030, 0.7969, 1.725, 2.163, 0.2876, 3.667, 0.5709, 0.5082, 0.2368, 0.2133, 0.1249, 0.09701, -0.008581, 0.2692, 0.5601, 2.080, 0.1674, 1.585, 0.1260, 0.08523, 0.1270, 0.06554, 0.1149, 0.02897] AS ARRAY<FLOAT NOT NULL>), 'imbalance'),
  ('test-001@1767225619510', 'test-001', TIMESTAMP '2026-01-01 00:00:19.510', CAST(ARRAY[-0.02016, 1.182, 2.540, 2.148, 0.8946, 4.452, 1.124, 0.6004, 0.07229, 0.07401, 0.05295, 0.1074, -0.01623, 0.9742, 2.120, 2.176, 0.2524, 4.079, 0.7038, 0.5346, 0.1615, 0.1883, 0.1424, 0.09514, -0.004769, 0.2519, 0.5001, 1.985, 0.1199, 1.495, 0.06949, 0.1177, 0.09667, 0.05564, 0.08834, 0.02922] AS ARRAY<FLOAT NOT NULL>), 'imbalance'),
  ('test-002@1767225612790', 'test-002', TIMESTAMP '2026-01-01 00:00:12.790', CAST(ARRAY[-0.03707, 0.8333, 1.764, 2.115, 1.137, 3.643, 1.357, 0.2559, 0.9169, 0.1346, 0.1982, 0.07724, 0.001879, 0.7909, 1.548, 1.958, 0.6579, 3.574, 1.306, 0.2113, 0.5013, 0.2965, 0.2959, 0.1626, 0.008143, 0.2386, 0.5860, 2.455, 0.05437, 1.314, 0.1424, 0.1500, 0.1301, 0.1574, 0.1583, 0.06811] AS ARRAY<FLOAT NOT NULL>), 'bearing_fault'),
  ('test-002@1767225613110', 'test-002', TIMESTAMP '2026-01-01 00:00:13.110', CAST(ARRAY[-0.02589, 0.8707, 1.959, 2.248, 0.8406, 3.644, 1.609, 0.6384, 1.553, 0.3833, 0.5685, 0.09592, -0.02008, 0.7955, 1.625, 2.042, 1.016, 3.560, 1.123, 0.4496, 0.8554, 0.2045, 0.2228, 0.1028, -0.001699, 0.2450, 0.7289, 2.976, 0.1598, 1.209, 0.2288, 0.2564, 0.2194, 0.1950, 0.1936, 0.08840] AS ARRAY<FLOAT NOT NULL>), 'bearing_fault'),
  ('test-004@1767225607030', 'test-004', TIMESTAMP '2026-01-01 00:00:07.030', CAST(ARRAY[0.009330, 0.6554, 1.261, 1.923, 0.1459, 3.257, 0.9947, 0.2071, 0.06558, 0.1396, 0.1128, 0.09227, -0.01674, 0.8168, 1.522, 1.863, 0.06613, 3.733, 0.7713, 0.1248, 0.08097, 0.09517, 0.1562, 0.1483, -0.0009558, 0.3065, 1.153, 3.761, 0.1304, 1.587, 0.8805, 0.1519, 0.1172, 0.1130, 0.08343, 0.07563] AS ARRAY<FLOAT NOT NULL>), 'misalignment'),
  ('test-004@1767225607350', 'test-004', TIMESTAMP '2026-01-01 00:00:07.350', CAST(ARRAY[-0.007092, 0.6693, 1.335, 1.994, 0.3115, 3.256, 1.194, 0.3386, 0.07515, 0.2083, 0.1622, 0.1562, -0.01030, 0.8187, 1.604, 1.959, 0.07119, 3.722, 0.8897, 0.1358, 0.2037, 0.2351, 0.1943, 0.1687, 0.02181, 0.4959, 1.471, 2.963, 0.2291, 1.958, 2.229, 0.4079, 0.1516, 0.1761, 0.09866, 0.1308] AS ARRAY<FLOAT NOT NULL>), 'misalignment');
