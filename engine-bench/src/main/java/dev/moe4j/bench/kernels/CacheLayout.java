package dev.moe4j.bench.kernels;

import java.util.SplittableRandom;

/** The attention benchmarks' KV cache: random contents, positions in blocks of 16 slots visited in shuffled order. */
final class CacheLayout {

    static final int BLOCK = 16;

    private CacheLayout() {}

    /** {@code n} floats uniform in [-1, 1). */
    static float[] uniform(SplittableRandom random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextDouble(-1, 1);
        }
        return a;
    }

    /** Floats a cache of {@code len} positions takes, whole blocks of {@code headDim}-float rows. */
    static int floats(int len, int headDim) {
        return (len + BLOCK - 1) / BLOCK * BLOCK * headDim;
    }

    /** Where each of {@code len} positions' rows starts, as a block table with its blocks shuffled would place them. */
    static int[] shuffledRows(SplittableRandom random, int len, int headDim) {
        int blocks = (len + BLOCK - 1) / BLOCK;
        int[] table = new int[blocks];
        for (int b = 0; b < blocks; b++) {
            table[b] = b;
        }
        for (int b = blocks - 1; b > 0; b--) {
            int other = random.nextInt(b + 1);
            int swap = table[b];
            table[b] = table[other];
            table[other] = swap;
        }
        int[] rows = new int[len];
        for (int p = 0; p < len; p++) {
            rows[p] = (table[p / BLOCK] * BLOCK + p % BLOCK) * headDim;
        }
        return rows;
    }
}
