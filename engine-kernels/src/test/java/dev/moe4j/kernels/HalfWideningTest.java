package dev.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.moe4j.kernels.simd.VectorKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The vector F16 and BF16 widening against the JDK's, bit for bit, for all 65 536 bit patterns. */
class HalfWideningTest {

    /** One row holding every 16-bit pattern in order. */
    private static Matrix allPatterns(DType type) {
        MemorySegment data = Arena.ofAuto().allocate(2 * 65536, 2);
        for (int h = 0; h < 65536; h++) {
            data.set(TestMatrices.LE_SHORT, 2L * h, (short) h);
        }
        return new Matrix("all " + type, data, type, 1, 65536);
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void f16IsFloat16ToFloat(int bits) {
        float[] out = new float[65536];
        new VectorKernels(bits).dequantizeRow(allPatterns(DType.F16), 0, out, 0);
        for (int h = 0; h < 65536; h++) {
            int expected = Float.floatToRawIntBits(Float.float16ToFloat((short) h));
            int actual = Float.floatToRawIntBits(out[h]);
            int half = h;
            assertEquals(expected, actual, () -> String.format("half 0x%04x: expected 0x%08x, got 0x%08x", half,
                    expected, actual));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void bf16IsTheTopHalfOfAFloat(int bits) {
        float[] out = new float[65536];
        new VectorKernels(bits).dequantizeRow(allPatterns(DType.BF16), 0, out, 0);
        for (int h = 0; h < 65536; h++) {
            int half = h;
            assertEquals(h << 16, Float.floatToRawIntBits(out[h]), () -> String.format("bf16 0x%04x", half));
        }
    }
}
