package dev.moe4j.kernels.simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian reads of weight storage, shared by the row kernels. */
final class Storage {

    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);

    private Storage() {}

    /** The IEEE half at {@code offset}, widened. */
    static float half(MemorySegment data, long offset) {
        return Float.float16ToFloat(data.get(LE_SHORT, offset));
    }

    static byte i8(MemorySegment data, long offset) {
        return data.get(ValueLayout.JAVA_BYTE, offset);
    }
}
