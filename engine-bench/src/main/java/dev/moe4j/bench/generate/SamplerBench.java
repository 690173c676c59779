package dev.moe4j.bench.generate;

import dev.moe4j.api.SamplingParams;
import dev.moe4j.generate.Sampler;
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
 * One token sampled from a Qwen3-sized logits row (151,936 entries, Gaussian with σ 3) by {@link Sampler}: time per
 * token for each truncation, top-k 0 (the whole vocabulary ranked) against the default top-k 20.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SamplerBench {
    private static final int VOCAB = 151_936;

    /** temperature/topK/topP/minP */
    @Param({"0.7/0/0.9/0", "1/0/1/0", "0.6/0/1/0.05", "0.6/20/0.95/0"})
    public String params;

    private Sampler sampler;
    private float[] logits;

    @Setup(Level.Trial)
    public void setUp() {
        String[] p = params.split("/");
        sampler = new Sampler(new SamplingParams(Double.parseDouble(p[0]), Integer.parseInt(p[1]),
                Double.parseDouble(p[2]), Double.parseDouble(p[3]), 0, 0, 1), VOCAB, 1);
        SplittableRandom random = new SplittableRandom(3);
        logits = new float[VOCAB];
        for (int i = 0; i < VOCAB; i++) {
            logits[i] = (float) (3 * gaussian(random));
        }
    }

    private static double gaussian(SplittableRandom random) {
        double u = 1 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    @Benchmark
    public int sample() {
        return sampler.sample(logits, 0);
    }
}
