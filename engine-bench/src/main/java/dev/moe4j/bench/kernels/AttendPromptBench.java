package dev.moe4j.bench.kernels;

import dev.moe4j.kernels.KernelProvider;
import dev.moe4j.kernels.KernelProviders;
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
 * A whole prompt's causal attention for one KV head of Qwen3-0.6B (two query heads share it, head dimension 128):
 * token t attends to positions 0…t. {@code canonical} is the default path ({@link KernelProvider#attend} with many
 * queries, once per query head); {@code columnOrder} is the rounded-activation mode's prompt kernel
 * ({@link KernelProvider#attendInColumnOrder}, both query heads in one call). The cache is laid out as the engine's,
 * blocks of 16 slots in shuffled order. Vector provider only; time per call.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class AttendPromptBench {

    private static final int HEAD_DIM = 128;
    private static final int GROUP = 2;

    @Param({"64", "512", "2048"})
    public int len;

    @Param({"canonical", "columnOrder"})
    public String order;

    private KernelProvider kernels;
    private float[] keys;
    private float[] values;
    private float[] q;
    private float[] out;
    private float[] scores;
    private int[] rows;
    private int[] offs;
    private int[] lens;
    private int[][] headOffs;

    @Setup(Level.Trial)
    public void setUp() {
        kernels = KernelProviders.vector(0);
        SplittableRandom random = new SplittableRandom(11);
        keys = CacheLayout.uniform(random, CacheLayout.floats(len, HEAD_DIM));
        values = CacheLayout.uniform(random, keys.length);
        q = CacheLayout.uniform(random, len * GROUP * HEAD_DIM);
        rows = CacheLayout.shuffledRows(random, len, HEAD_DIM);
        out = new float[q.length];
        scores = new float[4 * len];
        // token-major q and out as in the engine: token t, query head h at (t * GROUP + h) * HEAD_DIM
        offs = new int[GROUP * len];
        lens = new int[GROUP * len];
        headOffs = new int[GROUP][len];
        for (int h = 0; h < GROUP; h++) {
            for (int t = 0; t < len; t++) {
                offs[h * len + t] = (t * GROUP + h) * HEAD_DIM;
                lens[h * len + t] = t + 1;
                headOffs[h][t] = (t * GROUP + h) * HEAD_DIM;
            }
        }
    }

    @Benchmark
    public float[] prompt() {
        float scale = (float) (1.0 / Math.sqrt(HEAD_DIM));
        if (order.equals("columnOrder")) {
            kernels.attendInColumnOrder(out, offs, q, offs, lens, GROUP * len, keys, values, rows, 0, HEAD_DIM,
                    scale, scores);
        } else {
            for (int h = 0; h < GROUP; h++) {
                kernels.attend(out, headOffs[h], q, headOffs[h], lens, len, keys, values, rows, 0, HEAD_DIM, scale,
                        scores);
            }
        }
        return out;
    }
}
