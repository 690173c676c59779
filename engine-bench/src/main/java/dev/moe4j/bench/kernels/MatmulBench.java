package dev.moe4j.bench.kernels;

import dev.moe4j.kernels.DType;
import dev.moe4j.kernels.KernelProvider;
import dev.moe4j.kernels.KernelProviders;
import dev.moe4j.kernels.Matrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One thread's matrix product at Qwen3 shapes, scalar against Vector API kernels. Shapes are {@code rows x cols}
 * of the weight, i.e. [out][in]: 0.6B down_proj (1024x3072) and gate/up_proj (3072x1024), a 30B-A3B expert's
 * down_proj (2048x768) and the 0.6B lm_head (151936x1024). One token is decode (a mat-vec, bound by reading the
 * weights: bytes read per op = rows · bytesFor(cols)); 32 tokens is a prefill chunk (bound by FMAs: 2·rows·cols·32
 * flops per op).
 *
 * <p>Run with JMH's runner on the module's classpath ({@code java --add-modules jdk.incubator.vector -cp
 * "engine-bench/target/classes:engine-bench/target/lib/*" org.openjdk.jmh.Main MatmulBench}); filter with
 * {@code -p type=Q8_0 -p provider=vector}. Q8_0, Q4_0 and Q4_K weights are interleaved as the GGUF
 * loader stores them; {@code Q4_0_ROUNDED} and {@code Q4_K_ROUNDED} have the opt-in rounded-activation form.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
    "-Xmx4g"})
public class MatmulBench {

    @Param({"1024x3072", "3072x1024", "2048x768", "151936x1024"})
    public String shape;

    /**
     * A DType, or Q4_0_ROUNDED / Q4_K_ROUNDED: with the rounded-activation form (one token: its rounded kernel; 32
     * tokens: Q4_0's column-order tile, Q4_K's default tile).
     */
    @Param({"F32", "BF16", "Q8_0", "Q4_0", "Q4_0_ROUNDED", "Q4_K", "Q4_K_ROUNDED"})
    public String type;

    @Param({"1", "32"})
    public int nTokens;

    @Param({"scalar", "vector"})
    public String provider;

    private KernelProvider kernels;
    private Matrix weights;
    private float[] x; // [nTokens][cols]
    private float[] out; // [nTokens][rows]

    @Setup(Level.Trial)
    public void setUp() {
        String[] dims = shape.split("x");
        int rows = Integer.parseInt(dims[0]);
        int cols = Integer.parseInt(dims[1]);
        kernels = provider.equals("scalar") ? KernelProviders.scalar() : KernelProviders.vector(0);
        SplittableRandom random = new SplittableRandom(42);
        boolean rounded = type.endsWith("_ROUNDED");
        weights = RandomWeights.matrix(random,
                DType.valueOf(rounded ? type.substring(0, type.length() - "_ROUNDED".length()) : type), rows, cols);
        if (rounded) {
            weights = weights.withRoundedActivations();
        }
        x = new float[nTokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(-1, 1);
        }
        out = new float[nTokens * rows];
    }

    @Benchmark
    public float[] matmul() {
        kernels.matmul(out, weights, x, nTokens, 0, weights.rows());
        return out;
    }

    /** Weight matrices of random but valid contents, off-heap as a memory-mapped model's would be. */
    static final class RandomWeights {

        private static final ValueLayout.OfShort LE_SHORT =
                ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfFloat LE_FLOAT =
                ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        private RandomWeights() {}

        /**
         * Floats in [-1, 1) for F32/F16/BF16; for block types random bytes with every f16 scale set to a sane
         * value (no NaN or infinity blocks).
         */
        static Matrix matrix(SplittableRandom random, DType type, int rows, int cols) {
            long bytes = rows * type.bytesFor(cols);
            MemorySegment data = Arena.ofShared().allocate(bytes, 64);
            long elements = (long) rows * cols;
            switch (type) {
                case F32 -> {
                    for (long i = 0; i < elements; i++) {
                        data.set(LE_FLOAT, 4 * i, (float) random.nextDouble(-1, 1));
                    }
                }
                case F16 -> {
                    for (long i = 0; i < elements; i++) {
                        data.set(LE_SHORT, 2 * i, Float.floatToFloat16((float) random.nextDouble(-1, 1)));
                    }
                }
                case BF16 -> {
                    for (long i = 0; i < elements; i++) {
                        int bits = Float.floatToRawIntBits((float) random.nextDouble(-1, 1));
                        data.set(LE_SHORT, 2 * i, (short) (bits >>> 16));
                    }
                }
                default -> {
                    for (long i = 0; i < bytes; i++) {
                        data.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
                    }
                    for (long at = 0; at < bytes; at += type.blockBytes()) {
                        for (long scale : scaleOffsets(type)) {
                            data.set(LE_SHORT, at + scale, Float.floatToFloat16((float) random.nextDouble(1e-3, 1e-2)));
                        }
                    }
                }
            }
            Matrix m = new Matrix(type + "[" + rows + "][" + cols + "]", data, type, rows, cols);
            // as the GGUF loader stores them (Matrix.interleaved), so that the figures are the engine's
            return Matrix.interleavable(type) ? m.interleaved() : m;
        }

        private static long[] scaleOffsets(DType type) {
            return switch (type) {
                case Q8_0, Q4_0 -> new long[] {0};
                case Q4_K -> new long[] {0, 2};
                case Q6_K -> new long[] {208};
                case Q5_K -> new long[] {0, 2};
                case Q3_K -> new long[] {108};
                case IQ4_XS, Q5_0 -> new long[] {0};
                default -> throw new IllegalArgumentException(type + " has no block scales");
            };
        }
    }
}
