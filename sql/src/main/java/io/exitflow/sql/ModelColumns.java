package io.exitflow.sql;

import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.schemas.Prediction;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

/**
 * How a model's declared {@code INPUT} and {@code OUTPUT} columns map onto a bundle, checked at planning
 * ({@link #bind}) and used by the predict functions at run time.
 *
 * <p>Input: either one {@code ARRAY<FLOAT>} (or {@code ARRAY<DOUBLE>}) column holding the bundle's whole input in
 * its layout (feature vectors: the features in order; windows: channels-first, flattened row-major, i.e.
 * {@code product(input.shape)} values), or one numeric column per value (TINYINT, SMALLINT, INT, BIGINT, FLOAT,
 * DOUBLE or DECIMAL), in the bundle's order. The values are raw: the bundle's mean/std normalisation is applied by
 * the runtime.
 *
 * <p>Output: any of the columns of {@link Output}, by name (case-insensitive), in any order.
 */
public final class ModelColumns implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The columns a model served by ExitFlow can return. */
    public enum Output {
        /** STRING: the predicted class's name (the bundle's {@code classes}). */
        PREDICTED_CLASS("predicted_class", "STRING"),
        /** INT or BIGINT: its index in the bundle's classes. */
        CLASS_INDEX("class_index", "INT"),
        /** FLOAT or DOUBLE: softmax probability of the predicted class at the exit stage. */
        PROBABILITY("probability", "FLOAT"),
        /** INT or BIGINT: 0-based stage whose exit answered. */
        EXIT_STAGE("exit_stage", "INT"),
        /** INT or BIGINT: how many stages ran for the row. */
        STAGES_RUN("stages_run", "INT"),
        /** STRING: the bundle's model_version. */
        MODEL_VERSION("model_version", "STRING"),
        /** STRING: the bundle's model_id. */
        MODEL_ID("model_id", "STRING"),
        /** INT or BIGINT: version of the thresholds that decided the exit (0 = the bundle's or the 'thresholds' option). */
        THRESHOLD_VERSION("threshold_version", "BIGINT");

        final String column;
        final String sqlType;

        Output(String column, String sqlType) {
            this.column = column;
            this.sqlType = sqlType;
        }

        /** Column name in OUTPUT. */
        public String column() {
            return column;
        }

        static String catalogue() {
            StringBuilder b = new StringBuilder();
            for (Output o : values()) {
                b.append(b.length() == 0 ? "" : ", ")
                        .append(o.column)
                        .append(' ')
                        .append(o.sqlType);
            }
            return b.toString();
        }
    }

    /** How one input or output value is read or written. */
    enum Kind {
        TINYINT,
        SMALLINT,
        INT,
        BIGINT,
        FLOAT,
        DOUBLE,
        DECIMAL,
        STRING
    }

    private final String model;
    private final int inputSize;
    /** Non-null: one array column whose elements are of this kind; null: one column per value ({@link #inputKinds}). */
    private final Kind arrayElement;

    private final String arrayColumn;
    private final Kind[] inputKinds;
    private final String[] inputNames;
    private final Output[] outputs;
    private final Kind[] outputKinds;

    private ModelColumns(
            String model,
            int inputSize,
            Kind arrayElement,
            String arrayColumn,
            Kind[] inputKinds,
            String[] inputNames,
            Output[] outputs,
            Kind[] outputKinds) {
        this.model = model;
        this.inputSize = inputSize;
        this.arrayElement = arrayElement;
        this.arrayColumn = arrayColumn;
        this.inputKinds = inputKinds;
        this.inputNames = inputNames;
        this.outputs = outputs;
        this.outputKinds = outputKinds;
    }

    /**
     * Checks {@code input} and {@code output} against {@code manifest}.
     *
     * @param model the model's name, for messages
     * @throws ValidationException naming the column and what the bundle expects
     */
    public static ModelColumns bind(String model, ResolvedSchema input, ResolvedSchema output, Manifest manifest) {
        int size = manifest.input().shape().stream().reduce(1, (a, b) -> a * b);
        String expected = "one ARRAY<FLOAT> column of " + size + " values (bundle " + manifest.modelId()
                + ", input shape " + manifest.input().shape() + ", layout "
                + manifest.input().layout() + ") or "
                + size + " numeric columns, one per value";
        List<Column> in = physical(input);
        Kind arrayElement = null;
        String arrayColumn = null;
        Kind[] kinds = null;
        String[] names = null;
        if (in.size() == 1 && in.get(0).getDataType().getLogicalType().getTypeRoot() == LogicalTypeRoot.ARRAY) {
            Column c = in.get(0);
            LogicalType element = ((ArrayType) c.getDataType().getLogicalType()).getElementType();
            arrayElement = switch (element.getTypeRoot()) {
                case FLOAT -> Kind.FLOAT;
                case DOUBLE -> Kind.DOUBLE;
                default ->
                    throw new ValidationException("INPUT column `" + c.getName() + "` of model " + model
                            + " is " + c.getDataType() + ": an array input must be ARRAY<FLOAT> or ARRAY<DOUBLE> ("
                            + expected + ")");
            };
            arrayColumn = c.getName();
        } else if (in.size() == size) {
            kinds = new Kind[size];
            names = new String[size];
            for (int i = 0; i < size; i++) {
                Column c = in.get(i);
                names[i] = c.getName();
                kinds[i] = numericKind(c.getDataType().getLogicalType());
                if (kinds[i] == null) {
                    throw new ValidationException("INPUT column `" + c.getName() + "` of model " + model + " is "
                            + c.getDataType() + ", not numeric: the model takes " + expected);
                }
            }
        } else {
            throw new ValidationException("model " + model + " declares INPUT " + describe(in) + ", but the bundle "
                    + "at its 'bundle' option takes " + expected);
        }

        List<Column> out = physical(output);
        if (out.isEmpty()) {
            throw new ValidationException(
                    "model " + model + " declares no OUTPUT column; choose from: " + Output.catalogue());
        }
        Output[] roles = new Output[out.size()];
        Kind[] outKinds = new Kind[out.size()];
        for (int i = 0; i < out.size(); i++) {
            Column c = out.get(i);
            Output role = Arrays.stream(Output.values())
                    .filter(o -> o.column.equalsIgnoreCase(c.getName()))
                    .findFirst()
                    .orElseThrow(() -> new ValidationException("OUTPUT column `" + c.getName() + "` of model " + model
                            + " is not one ExitFlow returns; choose from: " + Output.catalogue()));
            for (int j = 0; j < i; j++) {
                if (roles[j] == role) {
                    throw new ValidationException(
                            "OUTPUT column `" + c.getName() + "` of model " + model + " is declared twice");
                }
            }
            LogicalType t = c.getDataType().getLogicalType();
            Kind k = switch (role) {
                case PREDICTED_CLASS, MODEL_VERSION, MODEL_ID ->
                    t.getTypeRoot() == LogicalTypeRoot.VARCHAR ? Kind.STRING : null;
                case CLASS_INDEX, EXIT_STAGE, STAGES_RUN, THRESHOLD_VERSION ->
                    switch (t.getTypeRoot()) {
                        case INTEGER -> role == Output.THRESHOLD_VERSION ? null : Kind.INT;
                        case BIGINT -> Kind.BIGINT;
                        default -> null;
                    };
                case PROBABILITY ->
                    switch (t.getTypeRoot()) {
                        case FLOAT -> Kind.FLOAT;
                        case DOUBLE -> Kind.DOUBLE;
                        default -> null;
                    };
            };
            if (k == null) {
                String allowed = switch (role) {
                    case PREDICTED_CLASS, MODEL_VERSION, MODEL_ID -> "STRING";
                    case CLASS_INDEX, EXIT_STAGE, STAGES_RUN -> "INT or BIGINT";
                    case THRESHOLD_VERSION -> "BIGINT";
                    case PROBABILITY -> "FLOAT or DOUBLE";
                };
                throw new ValidationException("OUTPUT column `" + c.getName() + "` of model " + model + " is "
                        + c.getDataType() + ", but " + role.column + " must be " + allowed);
            }
            roles[i] = role;
            outKinds[i] = k;
        }
        return new ModelColumns(model, size, arrayElement, arrayColumn, kinds, names, roles, outKinds);
    }

    /** Values per row the bundle takes. */
    public int inputSize() {
        return inputSize;
    }

    /** Whether the input is one array column (else one column per value). */
    public boolean arrayInput() {
        return arrayElement != null;
    }

    /** The OUTPUT columns, in declared order. */
    public List<Output> outputs() {
        return List.of(outputs);
    }

    /**
     * The raw input of one row: the feature columns ML_PREDICT passes, in INPUT order.
     *
     * @return the values, or null with {@code problem[0]} set when the row cannot be served (null value, wrong length)
     */
    float[] read(RowData row, String[] problem) {
        if (arrayElement != null) {
            if (row.isNullAt(0)) {
                problem[0] = "column `" + arrayColumn + "` is null";
                return null;
            }
            ArrayData a = row.getArray(0);
            if (a.size() != inputSize) {
                problem[0] = "column `" + arrayColumn + "` has " + a.size() + " values, model " + model + " takes "
                        + inputSize;
                return null;
            }
            float[] x = new float[inputSize];
            for (int i = 0; i < inputSize; i++) {
                if (a.isNullAt(i)) {
                    problem[0] = "column `" + arrayColumn + "` value " + i + " is null";
                    return null;
                }
                x[i] = arrayElement == Kind.FLOAT ? a.getFloat(i) : (float) a.getDouble(i);
            }
            return x;
        }
        if (row.getArity() != inputSize) {
            problem[0] = "got " + row.getArity() + " feature columns, model " + model + " takes " + inputSize;
            return null;
        }
        float[] x = new float[inputSize];
        for (int i = 0; i < inputSize; i++) {
            if (row.isNullAt(i)) {
                problem[0] = "column `" + inputNames[i] + "` is null";
                return null;
            }
            x[i] = switch (inputKinds[i]) {
                case TINYINT -> row.getByte(i);
                case SMALLINT -> row.getShort(i);
                case INT -> row.getInt(i);
                case BIGINT -> row.getLong(i);
                case FLOAT -> row.getFloat(i);
                case DOUBLE -> (float) row.getDouble(i);
                case DECIMAL -> decimal(row, i);
                case STRING -> throw new IllegalStateException("string input column " + inputNames[i]);
            };
        }
        return x;
    }

    private static float decimal(RowData row, int i) {
        // The getter needs precision and scale; GenericRowData holds the DecimalData itself.
        Object v = row instanceof GenericRowData g ? g.getField(i) : null;
        if (v instanceof DecimalData d) {
            return d.toBigDecimal().floatValue();
        }
        return row.getDecimal(i, 38, 18).toBigDecimal().floatValue();
    }

    /** The OUTPUT row of one answer. */
    RowData write(Prediction p) {
        GenericRowData r = new GenericRowData(outputs.length);
        for (int i = 0; i < outputs.length; i++) {
            Object v = switch (outputs[i]) {
                case PREDICTED_CLASS -> StringData.fromString(p.getPredictedClass());
                case CLASS_INDEX -> integer(outputKinds[i], p.getClassIndex());
                case PROBABILITY ->
                    outputKinds[i] == Kind.FLOAT ? (Object) p.getProbability() : (Object) (double) p.getProbability();
                case EXIT_STAGE -> integer(outputKinds[i], p.getExitStage());
                case STAGES_RUN -> integer(outputKinds[i], p.getStagesRun());
                case MODEL_VERSION -> StringData.fromString(p.getModelVersion());
                case MODEL_ID -> StringData.fromString(p.getModelId());
                case THRESHOLD_VERSION -> p.getThresholdVersion();
            };
            r.setField(i, v);
        }
        return r;
    }

    private static Object integer(Kind k, long v) {
        return k == Kind.BIGINT ? (Object) v : (Object) (int) v;
    }

    private static Kind numericKind(LogicalType t) {
        return switch (t.getTypeRoot()) {
            case TINYINT -> Kind.TINYINT;
            case SMALLINT -> Kind.SMALLINT;
            case INTEGER -> Kind.INT;
            case BIGINT -> Kind.BIGINT;
            case FLOAT -> Kind.FLOAT;
            case DOUBLE -> Kind.DOUBLE;
            case DECIMAL -> Kind.DECIMAL;
            default -> null;
        };
    }

    private static List<Column> physical(ResolvedSchema s) {
        List<Column> cols = new ArrayList<>();
        for (Column c : s.getColumns()) {
            if (c.isPhysical()) {
                cols.add(c);
            }
        }
        return cols;
    }

    private static String describe(List<Column> cols) {
        List<String> parts = new ArrayList<>();
        for (Column c : cols) {
            parts.add(c.getName() + " " + c.getDataType().toString().toUpperCase(Locale.ROOT));
        }
        return parts.size() > 8
                ? "(" + parts.size() + " columns: " + String.join(", ", parts.subList(0, 8)) + ", ...)"
                : "(" + String.join(", ", parts) + ")";
    }
}
