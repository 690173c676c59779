package dev.moe4j.cache;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The paged key/value cache of one engine: for every layer, K and V storage of
 * {@code [numKvHeads][numBlocks · blockSize slots][headDim]} F32, shared by all sequences through a
 * {@link BlockPool}. Head-major, so that one head's positions lie {@code headDim} floats apart: with the slot
 * outermost they would lie {@code kvDim} floats (often exactly 4 KiB) apart, and reading them would thrash the
 * same few L1 sets. Keys are stored after QK-norm and RoPE; values raw.
 */
public final class KvCache {
    /** Default tokens per block. */
    public static final int DEFAULT_BLOCK_SIZE = 16;

    private final int numLayers;
    private final int kvDim;
    private final int blockSize;
    private final int maxPositions;
    private final BlockPool pool;
    private final float[][] keys;
    private final float[][] values;
    private final AtomicInteger nextSequenceId = new AtomicInteger();

    /**
     * @param kvDim        numKvHeads · headDim
     * @param numBlocks    blocks in the pool (shared by all sequences)
     * @param maxPositions the longest a single sequence may grow (the context length)
     */
    public KvCache(int numLayers, int kvDim, int blockSize, int numBlocks, int maxPositions) {
        if (numLayers < 1 || kvDim < 1 || blockSize < 1 || numBlocks < 1 || maxPositions < 1) {
            throw new IllegalArgumentException("KV cache dimensions must be positive: layers " + numLayers
                    + ", kvDim " + kvDim + ", blockSize " + blockSize + ", blocks " + numBlocks
                    + ", max positions " + maxPositions);
        }
        long floatsPerLayer = (long) numBlocks * blockSize * kvDim;
        if (floatsPerLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV cache of " + numBlocks + " blocks × " + blockSize + " × " + kvDim
                    + " floats per layer is too large for one array; use fewer blocks");
        }
        this.numLayers = numLayers;
        this.kvDim = kvDim;
        this.blockSize = blockSize;
        this.maxPositions = maxPositions;
        this.pool = new BlockPool(numBlocks);
        this.keys = new float[numLayers][(int) floatsPerLayer];
        this.values = new float[numLayers][(int) floatsPerLayer];
    }

    /** A cache holding {@code sequences} full-length sequences. */
    public static KvCache forSequences(int numLayers, int kvDim, int blockSize, int maxPositions, int sequences) {
        int blocksPerSequence = (maxPositions + blockSize - 1) / blockSize;
        return new KvCache(numLayers, kvDim, blockSize, Math.multiplyExact(blocksPerSequence, sequences), maxPositions);
    }

    public Sequence newSequence() {
        return new Sequence(this, nextSequenceId.getAndIncrement());
    }

    public int numLayers() {
        return numLayers;
    }

    public int kvDim() {
        return kvDim;
    }

    public int blockSize() {
        return blockSize;
    }

    public int maxPositions() {
        return maxPositions;
    }

    /** Slots per layer and head: blocks × block size. */
    public int slots() {
        return pool.capacity() * blockSize;
    }

    public BlockPool pool() {
        return pool;
    }

    /** Layer {@code layer}'s keys, addressed as {@code (kvHead · slots() + slot) · headDim + i}. */
    public float[] keys(int layer) {
        return keys[layer];
    }

    /** Layer {@code layer}'s values, addressed like {@link #keys}. */
    public float[] values(int layer) {
        return values[layer];
    }
}
