package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Quantises F32 values into a block format, producing the same bytes as GGML's reference quantiser for that
 * format (the one llama-quantize uses when no importance matrix is given).
 */
public sealed interface BlockQuantizer permits Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, Q5_0, Q5_1 {

    /** Quantises x[xOff, xOff + blockSize) into the block at byte {@code offset} of {@code out}. */
    void quantize(float[] x, int xOff, MemorySegment out, long offset);

    static BlockQuantizer of(DType type) {
        return switch (type) {
            case Q8_0 -> Q8_0.INSTANCE;
            case Q4_0 -> Q4_0.INSTANCE;
            case Q4_K -> Q4_K.INSTANCE;
            case Q5_K -> Q5_K.INSTANCE;
            case Q6_K -> Q6_K.INSTANCE;
            case Q5_0 -> Q5_0.INSTANCE;
            case Q5_1 -> Q5_1.INSTANCE;
            default -> throw new IllegalArgumentException(
                    "no quantiser for " + type + " (Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K have one)");
        };
    }

    /** C's {@code roundf}: halves round away from zero (Math.round would send −2.5 to −2). */
    static float roundHalfAwayFromZero(float v) {
        return (float) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }

    static void putHalf(MemorySegment out, long offset, float value) {
        out.set(BlockFormat.LE_SHORT, offset, Float.floatToFloat16(value)); // round to nearest even, as F16C does
    }

    static void putByte(MemorySegment out, long offset, int value) {
        out.set(ValueLayout.JAVA_BYTE, offset, (byte) value);
    }

    /** The value of largest magnitude among x[off, off + n), sign kept, the first one on ties (as ggml picks it). */
    static float largestMagnitude(float[] x, int off, int n) {
        float amax = 0f;
        float max = 0f;
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }
}
