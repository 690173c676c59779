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
 *
 * <p>With {@link PrefixCaching}, full blocks are kept in the pool's prefix cache ({@link BlockPool}) and shared by
 * sequences that start with the same tokens. Only for caches without recurrent layers: a recurrent state is one
 * slot per sequence that the next token overwrites, not blocks a later sequence could take up.
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
    private final PrefixCaching prefixCaching;

    /**
     * The prefix cache's settings.
     *
     * @param identity       what the keys and values depend on besides the tokens (the model, block size, number
     *     format and activation mode): the root of every block's hash chain
     * @param minBatchTokens the smallest forward pass whose keys and values may be cached, and the fewest prompt
     *     tokens a sequence recomputes after a hit. 1 where a token's bits do not depend on its batch; more in a mode
     *     whose small products take another path (the rounded activations: {@code MAX_TOKENS + 1})
     */
    public record PrefixCaching(long identity, int minBatchTokens) {
        public PrefixCaching {
            if (minBatchTokens < 1) {
                throw new IllegalArgumentException("minBatchTokens must be positive, was " + minBatchTokens);
            }
        }
    }

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
        this(layers, blockSize, numBlocks, maxPositions, recurrentSlots, null);
    }

    /**
     * A cache as {@link #KvCache(List, int, int, int, int)} with a prefix cache of full blocks, or none when
     * {@code prefixCaching} is null.
     *
     * @throws IllegalArgumentException if prefix caching is asked of a cache with recurrent layers
     */
    public KvCache(List<LayerState> layers, int blockSize, int numBlocks, int maxPositions, int recurrentSlots,
                   PrefixCaching prefixCaching) {
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
        if (recurrent && prefixCaching != null) {
            throw new IllegalArgumentException("prefix caching needs every layer to keep KV blocks; recurrent layers"
                    + " keep one state per sequence");
        }
        this.prefixCaching = prefixCaching;
        this.pool = prefixCaching == null ? new BlockPool(numBlocks)
                : new BlockPool(numBlocks, blockSize, prefixCaching.identity());
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

    /** The prefix cache's settings, or null when it is off. */
    public PrefixCaching prefixCaching() {
        return prefixCaching;
    }

    /**
     * The cached blocks holding {@code tokens}' first full blocks, in order, as far as they are cached and at most
     * {@code maxBlocks}; none without a prefix cache. Nothing is retained ({@link Sequence#adoptPrefix} does that).
     */
    public int[] cachedPrefix(int[] tokens, int maxBlocks) {
        if (prefixCaching == null) {
            return new int[0];
        }
        int n = Math.min(maxBlocks, tokens.length / blockSize);
        int[] hit = new int[Math.max(0, n)];
        long hash = pool.rootHash();
        int parent = -1;
        for (int i = 0; i < n; i++) {
            hash = pool.chain(hash, tokens, i * blockSize);
            int block = pool.lookup(hash, parent, tokens, i * blockSize);
            if (block < 0) {
                return Arrays.copyOf(hit, i);
            }
            hit[i] = block;
            parent = block;
        }
        return hit;
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
