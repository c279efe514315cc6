package io.exitflow.data;

import java.util.List;

/** The classes of the shared sensor dataset, in the index order every model uses. */
public final class SensorClasses {
    /** Class names; index 0 is the normal regime. */
    public static final List<String> NAMES =
            List.of("normal", "imbalance", "misalignment", "bearing_fault", "looseness");

    /** Channels per reading (3-axis vibration: x, y radial; z axial). */
    public static final int CHANNELS = 3;

    /** Sampling period of the generator: 100 Hz. */
    public static final int SAMPLE_PERIOD_MS = 10;

    /** Index of the normal class. */
    public static final int NORMAL = 0;

    private SensorClasses() {}

    /** Index of a class name, or -1 when the name is not a class of this dataset. */
    public static int indexOf(String name) {
        return NAMES.indexOf(name);
    }
}
