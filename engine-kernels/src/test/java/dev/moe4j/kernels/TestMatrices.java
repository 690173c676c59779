package dev.moe4j.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/** Random activations and weight matrices of every storage type, from a caller's seeded random. */
final class TestMatrices {

    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TestMatrices() {}

    /** n floats uniform in [-1, 1). */
    static float[] floats(Random random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = random.nextFloat() * 2 - 1;
        }
        return a;
    }

    /**
     * A {@code [rows][cols]} matrix of {@code type} with random contents: floats in [-1, 1) for F32/F16/BF16;
     * for block types random quant bytes with every f16 scale overwritten by a sane one (magnitude 2^-10 to 2^-4,
     * either sign), so that no block holds NaN or infinity.
     */
    static Matrix random(Random random, DType type, int rows, int cols) {
        long rowBytes = type.bytesFor(cols);
        MemorySegment data = Arena.ofAuto().allocate(rows * rowBytes, 8);
        switch (type) {
            case F32 -> {
                for (long i = 0; i < (long) rows * cols; i++) {
                    data.set(LE_FLOAT, 4 * i, random.nextFloat() * 2 - 1);
                }
            }
            case F16 -> {
                for (long i = 0; i < (long) rows * cols; i++) {
                    data.set(LE_SHORT, 2 * i, Float.floatToFloat16(random.nextFloat() * 2 - 1));
                }
            }
            case BF16 -> {
                for (long i = 0; i < (long) rows * cols; i++) {
                    data.set(LE_SHORT, 2 * i, (short) (Float.floatToRawIntBits(random.nextFloat() * 2 - 1) >>> 16));
                }
            }
            default -> {
                byte[] bytes = new byte[(int) (rows * rowBytes)];
                random.nextBytes(bytes);
                MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, 0, bytes.length);
                long blocks = rows * rowBytes / type.blockBytes();
                for (long block = 0; block < blocks; block++) {
                    long at = block * type.blockBytes();
                    for (long scaleOffset : scaleOffsets(type)) {
                        data.set(LE_SHORT, at + scaleOffset, Float.floatToFloat16(saneScale(random)));
                    }
                }
            }
        }
        return new Matrix(type + "[" + rows + "][" + cols + "]", data, type, rows, cols);
    }

    /** Byte offsets of the f16 scales inside one block. */
    private static long[] scaleOffsets(DType type) {
        return switch (type) {
            case Q8_0, Q4_0 -> new long[] {0};
            case Q4_K -> new long[] {0, 2};
            case Q6_K -> new long[] {208};
            case Q4_1, Q5_1, Q5_K -> new long[] {0, 2};
            case Q5_0, IQ4_NL, IQ4_XS -> new long[] {0};
            case Q2_K -> new long[] {80, 82};
            case Q3_K -> new long[] {108};
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    private static float saneScale(Random random) {
        float magnitude = (float) Math.pow(2, -10 + 6 * random.nextDouble());
        return random.nextBoolean() ? magnitude : -magnitude;
    }

    /** Row {@code row} of {@code w} widened by the scalar reference. */
    static float[] widened(Matrix w, int row) {
        float[] out = new float[w.cols()];
        ScalarKernels.INSTANCE.dequantizeRow(w, row, out, 0);
        return out;
    }
}
