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
 * One query head attending over {@code len} cached positions ({@link KernelProvider#attend}), head dimension 128
 * as in every Qwen3, with the cache laid out as the engine's: one head's positions 128 floats apart, visited in
 * block-table order (blocks of 16 slots, shuffled). Time per call; divide by {@code len} for time per position.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class AttendBench {

    private static final int HEAD_DIM = 128;

    @Param({"64", "512", "4096"})
    public int len;

    @Param({"scalar", "vector"})
    public String provider;

    private KernelProvider kernels;
    private float[] keys;
    private float[] values;
    private float[] q;
    private float[] out;
    private float[] scores;
    private int[] rows;

    @Setup(Level.Trial)
    public void setUp() {
        kernels = provider.equals("scalar") ? KernelProviders.scalar() : KernelProviders.vector(0);
        SplittableRandom random = new SplittableRandom(7);
        keys = CacheLayout.uniform(random, CacheLayout.floats(len, HEAD_DIM));
        values = CacheLayout.uniform(random, keys.length);
        q = CacheLayout.uniform(random, HEAD_DIM);
        rows = CacheLayout.shuffledRows(random, len, HEAD_DIM);
        out = new float[HEAD_DIM];
        scores = new float[len];
    }

    @Benchmark
    public float[] attend() {
        kernels.attend(out, 0, q, 0, keys, values, rows, 0, len, HEAD_DIM, 0.088f, scores);
        return out;
    }
}
