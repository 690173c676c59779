package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * One GGML block format: its layout and the scalar dequantiser that defines it. Every other kernel for the
 * format must agree with {@link #dequantize} (the specification).
 */
public sealed interface BlockFormat permits Q8_0, Q4_0, Q4_K, Q6_K, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q5_K, IQ4_NL,
        IQ4_XS {

    ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    DType type();

    /** Widens the block at byte {@code offset} of {@code data} into out[outOff, outOff + blockSize). */
    void dequantize(MemorySegment data, long offset, float[] out, int outOff);

    static BlockFormat of(DType type) {
        return switch (type) {
            case Q8_0 -> Q8_0.INSTANCE;
            case Q4_0 -> Q4_0.INSTANCE;
            case Q4_K -> Q4_K.INSTANCE;
            case Q6_K -> Q6_K.INSTANCE;
            case Q4_1 -> Q4_1.INSTANCE;
            case Q5_0 -> Q5_0.INSTANCE;
            case Q5_1 -> Q5_1.INSTANCE;
            case Q2_K -> Q2_K.INSTANCE;
            case Q3_K -> Q3_K.INSTANCE;
            case Q5_K -> Q5_K.INSTANCE;
            case IQ4_NL -> IQ4_NL.INSTANCE;
            case IQ4_XS -> IQ4_XS.INSTANCE;
            default -> throw new IllegalArgumentException(type + " is not a block-quantized type");
        };
    }

    /** The little-endian IEEE half at {@code offset}, widened. */
    static float half(MemorySegment data, long offset) {
        return Float.float16ToFloat(data.get(LE_SHORT, offset));
    }

    static int u8(MemorySegment data, long offset) {
        return data.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    /** The little-endian 32-bit word at {@code offset}. */
    static int u32(MemorySegment data, long offset) {
        return data.get(LE_INT, offset);
    }
}
