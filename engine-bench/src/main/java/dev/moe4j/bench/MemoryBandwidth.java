package dev.moe4j.bench;

import dev.moe4j.kernels.parallel.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A STREAM-like read test: the threads of {@link Parallel} sum disjoint slices of a buffer much larger than the
 * caches with the widest float vectors; the best of several passes is the machine's read bandwidth, the roofline
 * decode is measured against.
 */
public final class MemoryBandwidth {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static volatile float sink;
    private static final long WARM_UP_NANOS = 300_000_000L;

    private MemoryBandwidth() {}

    /** Read bandwidth in GB/s (10⁹ bytes per second) over a {@code bytes}-sized buffer. */
    public static double readGbPerSecond(Parallel parallel, long bytes, int passes) {
        try (Arena arena = Arena.ofShared()) {
            long floats = bytes / 4 / SPECIES.length() / 64 * SPECIES.length() * 64;
            MemorySegment buf = arena.allocate(floats * 4, 64);
            parallel.forRange(64, 1, (s, e) -> {
                for (int chunk = s; chunk < e; chunk++) {
                    long from = floats / 64 * chunk;
                    for (long i = from; i < from + floats / 64; i++) {
                        buf.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 7) * 0.25f);
                    }
                }
            });
            warmUp(buf);
            double best = 0;
            for (int pass = 0; pass < passes; pass++) {
                float[] partial = new float[parallel.threads()];
                long start = System.nanoTime();
                int chunks = parallel.threads();
                parallel.forRange(chunks, 1, (s, e) -> {
                    for (int chunk = s; chunk < e; chunk++) {
                        long from = floats / chunks * chunk;
                        long to = chunk == chunks - 1 ? floats : from + floats / chunks;
                        partial[chunk] = sum(buf, from, to);
                    }
                });
                long nanos = System.nanoTime() - start;
                float total = 0;
                for (float p : partial) {
                    total += p;
                }
                sink = total;
                best = Math.max(best, floats * 4.0 / nanos);
            }
            return best;
        }
    }

    /**
     * Runs {@link #sum} over a cache-sized slice until the JIT has had time to compile it. A pass over the whole
     * buffer is one call, so without this the passes started in the interpreter, where every vector is a boxed
     * object (a profile of {@code moe4j bench} charged 629 samples to the Vector API's Java fallback inside this
     * loop). What spread is left between passes (33-60 GB/s on a 2-vCPU cloud VM) is the machine's.
     */
    private static void warmUp(MemorySegment buf) {
        long slice = Math.min(buf.byteSize() / 4, 1 << 16);
        float total = 0;
        long until = System.nanoTime() + WARM_UP_NANOS;
        for (int call = 0; call < 20_000 || System.nanoTime() < until; call++) {
            total += sum(buf, 0, slice);
        }
        sink = total;
    }

    private static float sum(MemorySegment buf, long from, long to) {
        // four independent accumulators keep several loads in flight
        FloatVector a0 = FloatVector.zero(SPECIES);
        FloatVector a1 = FloatVector.zero(SPECIES);
        FloatVector a2 = FloatVector.zero(SPECIES);
        FloatVector a3 = FloatVector.zero(SPECIES);
        int step = SPECIES.length();
        long i = from;
        for (; i + 4L * step <= to; i += 4L * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(SPECIES, buf, i * 4, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(SPECIES, buf, (i + step) * 4, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(SPECIES, buf, (i + 2L * step) * 4, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(SPECIES, buf, (i + 3L * step) * 4, ByteOrder.LITTLE_ENDIAN));
        }
        float s = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) {
            s += buf.getAtIndex(ValueLayout.JAVA_FLOAT, i);
        }
        return s;
    }
}
