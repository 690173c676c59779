package dev.moe4j.cache;

import dev.moe4j.api.ContextFullException;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The per-sequence state of one engine, per layer ({@link LayerState}): for attention layers K and V storage of
 * {@code [numKvHeads][numBlocks · blockSize slots][headDim]} F32, shared by all sequences through a
 * {@link BlockPool}; for linear-attention layers a fixed recurrent slot per sequence (convolution window and state),
 * taken when the sequence is created and given back when it closes. Head-major KV, so that one head's positions lie
 * {@code headDim} floats apart: with the slot outermost they would lie {@code kvDim} floats (often exactly 4 KiB)
 * apart, and reading them would thrash the same few L1 sets. Keys are stored after QK-norm and RoPE; values raw.
 */
public final class KvCache {
    /** Default tokens per block. */
    public static final int DEFAULT_BLOCK_SIZE = 16;

    private final List<LayerState> layers;
    private final int blockSize;
    private final int maxPositions;
    private final BlockPool pool;
    private final float[][] keys;
    private final float[][] values;
    private final float[][] conv;
    private final float[][] state;
    private final int[] freeSlots;
    private int freeSlotCount;
    private final AtomicInteger nextSequenceId = new AtomicInteger();

    /** A cache whose every layer is softmax attention with {@code kvDim} = numKvHeads · headDim. */
    public KvCache(int numLayers, int kvDim, int blockSize, int numBlocks, int maxPositions) {
        this(Collections.nCopies(Math.max(numLayers, 0), new LayerState.Kv(kvDim)), blockSize, numBlocks,
                maxPositions, 0);
        if (numLayers < 1) {
            throw new IllegalArgumentException("KV cache dimensions must be positive: layers " + numLayers);
        }
    }

    /**
     * @param layers         what each layer keeps
     * @param numBlocks      KV blocks in the pool (shared by all sequences)
     * @param maxPositions   the longest a single sequence may grow (the context length)
     * @param recurrentSlots sequences that may exist at once when some layer is recurrent (ignored otherwise)
     */
    public KvCache(List<LayerState> layers, int blockSize, int numBlocks, int maxPositions, int recurrentSlots) {
        this.layers = List.copyOf(layers);
        if (this.layers.isEmpty() || blockSize < 1 || numBlocks < 1 || maxPositions < 1) {
            throw new IllegalArgumentException("KV cache dimensions must be positive: layers " + this.layers.size()
                    + ", blockSize " + blockSize + ", blocks " + numBlocks + ", max positions " + maxPositions);
        }
        boolean recurrent = this.layers.stream().anyMatch(l -> l instanceof LayerState.Recurrent);
        if (recurrent && recurrentSlots < 1) {
            throw new IllegalArgumentException("a cache with recurrent layers needs at least one recurrent slot");
        }
        int slots = recurrent ? recurrentSlots : 0;
        this.blockSize = blockSize;
        this.maxPositions = maxPositions;
        this.pool = new BlockPool(numBlocks);
        int n = this.layers.size();
        this.keys = new float[n][];
        this.values = new float[n][];
        this.conv = new float[n][];
        this.state = new float[n][];
        for (int i = 0; i < n; i++) {
            switch (this.layers.get(i)) {
                case LayerState.Kv kv -> {
                    long floatsPerLayer = (long) numBlocks * blockSize * kv.kvDim();
                    if (kv.kvDim() < 1 || floatsPerLayer > Integer.MAX_VALUE - 8) {
                        throw new IllegalArgumentException("KV cache of " + numBlocks + " blocks × " + blockSize + " × "
                                + kv.kvDim() + " floats per layer is not possible in one array; use fewer blocks");
                    }
                    keys[i] = new float[(int) floatsPerLayer];
                    values[i] = new float[(int) floatsPerLayer];
                }
                case LayerState.Recurrent r -> {
                    conv[i] = new float[Math.multiplyExact(slots, r.convFloats())];
                    state[i] = new float[Math.multiplyExact(slots, r.stateFloats())];
                }
            }
        }
        this.freeSlots = new int[slots];
        for (int i = 0; i < slots; i++) {
            freeSlots[i] = slots - 1 - i;
        }
        this.freeSlotCount = slots;
    }

    /** A cache holding {@code sequences} full-length sequences, every layer attention. */
    public static KvCache forSequences(int numLayers, int kvDim, int blockSize, int maxPositions, int sequences) {
        int blocksPerSequence = (maxPositions + blockSize - 1) / blockSize;
        return new KvCache(numLayers, kvDim, blockSize, Math.multiplyExact(blocksPerSequence, sequences), maxPositions);
    }

    /**
     * A new empty sequence; with recurrent layers it takes a zeroed slot, and fails if none is free (the scheduler
     * checks {@link #freeRecurrentSlots()} first).
     */
    public Sequence newSequence() {
        int slot = -1;
        if (freeSlots.length > 0) {
            slot = takeSlot();
            for (int i = 0; i < layers.size(); i++) {
                if (layers.get(i) instanceof LayerState.Recurrent r) {
                    Arrays.fill(conv[i], slot * r.convFloats(), (slot + 1) * r.convFloats(), 0f);
                    Arrays.fill(state[i], slot * r.stateFloats(), (slot + 1) * r.stateFloats(), 0f);
                }
            }
        }
        return new Sequence(this, nextSequenceId.getAndIncrement(), slot);
    }

    private synchronized int takeSlot() {
        if (freeSlotCount == 0) {
            throw new ContextFullException("all " + freeSlots.length + " recurrent-state slots are in use (one per"
                    + " sequence that exists at once)");
        }
        return freeSlots[--freeSlotCount];
    }

    synchronized void releaseSlot(int slot) {
        freeSlots[freeSlotCount++] = slot;
    }

    /** Recurrent-state slots in all (0 without recurrent layers). */
    public int recurrentSlots() {
        return freeSlots.length;
    }

    /** Sequences that can still be created: unlimited (Integer.MAX_VALUE) without recurrent layers. */
    public synchronized int freeRecurrentSlots() {
        return freeSlots.length == 0 ? Integer.MAX_VALUE : freeSlotCount;
    }

    /** What each layer keeps. */
    public List<LayerState> layers() {
        return layers;
    }

    public int numLayers() {
        return layers.size();
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

    /** Attention layer {@code layer}'s keys, addressed as {@code (kvHead · slots() + slot) · headDim + i}. */
    public float[] keys(int layer) {
        return keys[layer];
    }

    /** Attention layer {@code layer}'s values, addressed like {@link #keys}. */
    public float[] values(int layer) {
        return values[layer];
    }

    /** Recurrent layer {@code layer}'s convolution windows, {@code convFloats} per sequence slot. */
    public float[] conv(int layer) {
        return conv[layer];
    }

    /** Recurrent layer {@code layer}'s states, {@code stateFloats} per sequence slot. */
    public float[] state(int layer) {
        return state[layer];
    }
}
