package io.exitflow.jobs.anomaly;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/**
 * Type information of a record type that crosses between the anomaly job's operators with one stateless serializer
 * of its own (no Kryo, no generic Avro): an atomic (arity 1), non-key type whose every instance is equal to every
 * other of the same class.
 *
 * @param <T> the record type
 */
abstract class SingletonSerializerTypeInfo<T> extends TypeInformation<T> {
    private static final long serialVersionUID = 1L;

    private final Class<T> type;

    SingletonSerializerTypeInfo(Class<T> type) {
        this.type = type;
    }

    /** The type's one serializer instance (a static singleton, so every copy of this info returns the same one). */
    abstract TypeSerializer<T> serializer();

    @Override
    public boolean isBasicType() {
        return false;
    }

    @Override
    public boolean isTupleType() {
        return false;
    }

    @Override
    public int getArity() {
        return 1;
    }

    @Override
    public int getTotalFields() {
        return 1;
    }

    @Override
    public Class<T> getTypeClass() {
        return type;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<T> createSerializer(SerializerConfig config) {
        return serializer();
    }

    @Override
    public String toString() {
        return type.getSimpleName() + " (" + serializer().getClass().getSimpleName() + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass();
    }

    @Override
    public int hashCode() {
        return getClass().hashCode();
    }

    @Override
    public boolean canEqual(Object o) {
        return o != null && o.getClass() == getClass();
    }
}
