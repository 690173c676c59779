package dev.moe4j.cache;

import dev.moe4j.api.ContextFullException;
import java.util.Arrays;

/**
 * One sequence's view of the KV cache: its block table (logical block i → physical block id) and how many
 * positions hold keys and values. Obtain one from {@link KvCache#newSequence()}; {@link #close()} returns its
 * blocks. A sequence is used by one thread at a time.
 *
 * <p>With the pool's prefix cache, a new sequence may start on cached blocks ({@link #adoptPrefix}) and offers its
 * own full blocks to the cache once their keys and values are final ({@link #commitBlocks}). Its first
 * {@link #sharedBlocks()} blocks are then cached, possibly shared, and never written again: positions below
 * {@link #length()} are never rewritten, and the length cannot go back below them.
 */
public final class Sequence implements AutoCloseable {
    private final KvCache cache;
    private final int id;
    private final int recurrentSlot;
    private int[] blocks = new int[4];
    private int blockCount;
    private int length;
    private boolean closed;
    /** Leading blocks that are in the prefix cache (adopted or committed), and the chain hash of the last. */
    private int sharedBlocks;
    private long lastHash;
    /** False once a block could not be cached: the chain stops there for this sequence. */
    private boolean caching;

    Sequence(KvCache cache, int id, int recurrentSlot) {
        this.cache = cache;
        this.id = id;
        this.recurrentSlot = recurrentSlot;
        this.caching = cache.pool().caching();
        this.lastHash = cache.pool().rootHash();
    }

    /**
     * Takes the cached blocks that hold {@code tokens[0, positions)}, as far as they are cached and at most
     * {@code maxBlocks}, into this new sequence, which then starts at their end. Returns the positions taken.
     */
    public int adoptPrefix(int[] tokens, int maxBlocks) {
        checkOpen();
        if (blockCount != 0) {
            throw new IllegalStateException("sequence " + id + " already has blocks; a prefix is adopted first");
        }
        int[] hit = cache.cachedPrefix(tokens, maxBlocks);
        BlockPool pool = cache.pool();
        long hash = pool.rootHash();
        for (int i = 0; i < hit.length; i++) {
            if (blockCount == blocks.length) {
                blocks = Arrays.copyOf(blocks, blocks.length * 2);
            }
            pool.retain(hit[i]);
            blocks[blockCount++] = hit[i];
            hash = pool.chain(hash, tokens, i * cache.blockSize());
        }
        sharedBlocks = hit.length;
        lastHash = hash;
        length = hit.length * cache.blockSize();
        return length;
    }

    /**
     * Offers this sequence's full blocks below position {@code until} (at most its length) to the prefix cache;
     * {@code tokens} are the tokens at its positions. Where another block already holds the same tokens after the
     * same blocks, this sequence takes that one instead and frees its own (their keys and values are the same bits).
     */
    public void commitBlocks(int[] tokens, int until) {
        if (!caching || closed) {
            return;
        }
        BlockPool pool = cache.pool();
        int blockSize = cache.blockSize();
        int full = Math.min(until, length) / blockSize;
        while (sharedBlocks < full) {
            int from = sharedBlocks * blockSize;
            long hash = pool.chain(lastHash, tokens, from);
            int parent = sharedBlocks == 0 ? -1 : blocks[sharedBlocks - 1];
            if (!pool.register(blocks[sharedBlocks], hash, parent, tokens, from)) {
                // another sequence cached these tokens first: take its block (the same bits) and free ours
                int existing = pool.lookup(hash, parent, tokens, from);
                if (existing < 0) {
                    caching = false;
                    return;
                }
                pool.retain(existing);
                pool.release(blocks[sharedBlocks]);
                blocks[sharedBlocks] = existing;
            }
            lastHash = hash;
            sharedBlocks++;
        }
    }

    /** Stops offering blocks to the prefix cache (their keys and values would not be reproducible). */
    public void stopCaching() {
        caching = false;
    }

    /** Leading blocks that are in the prefix cache and so read-only. */
    public int sharedBlocks() {
        return sharedBlocks;
    }

    /** This sequence's slot in the recurrent layers' state, or -1 when the model has none. */
    public int recurrentSlot() {
        return recurrentSlot;
    }

    public int id() {
        return id;
    }

    /** Positions whose keys and values are stored: the next token goes at this position. */
    public int length() {
        return length;
    }

    public int blockCount() {
        return blockCount;
    }

    /** The physical block ids, in logical order (a copy). */
    public int[] blockTable() {
        return Arrays.copyOf(blocks, blockCount);
    }

    public KvCache cache() {
        return cache;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Makes room for positions [0, positions), allocating blocks from the pool as needed. */
    public void reserve(int positions) {
        if (!tryReserve(positions)) {
            throw new ContextFullException("the KV cache is full: all " + cache.pool().capacity()
                    + " blocks are in use (close finished sequences or give the cache a larger budget)");
        }
    }

    /**
     * Makes room for positions [0, positions) if the pool has the blocks; false when it runs dry (the blocks
     * taken so far stay with this sequence). A length past the context length is an error, not a shortage.
     */
    public boolean tryReserve(int positions) {
        checkOpen();
        if (positions > cache.maxPositions()) {
            throw new ContextFullException("sequence " + id + " needs " + positions
                    + " positions, more than the context length " + cache.maxPositions());
        }
        int needed = blocksFor(positions);
        while (blockCount < needed) {
            if (blockCount == blocks.length) {
                blocks = Arrays.copyOf(blocks, blocks.length * 2);
            }
            int block = cache.pool().tryAllocate();
            if (block < 0) {
                return false;
            }
            blocks[blockCount++] = block;
        }
        return true;
    }

    /** Blocks this sequence still has to take to hold positions [0, positions). */
    public int blocksMissing(int positions) {
        return Math.max(0, blocksFor(positions) - blockCount);
    }

    private int blocksFor(int positions) {
        return (positions + cache.blockSize() - 1) / cache.blockSize();
    }

    /** Marks positions [0, newLength) as filled; they must be reserved. */
    public void setLength(int newLength) {
        checkOpen();
        if (newLength < sharedBlocks * cache.blockSize()) {
            throw new IllegalArgumentException("length " + newLength + " would reopen the cached (read-only) blocks"
                    + " of sequence " + id + ", which end at " + sharedBlocks * cache.blockSize());
        }
        if (newLength > blockCount * cache.blockSize()) {
            throw new IllegalArgumentException("length " + newLength + " outside the reserved "
                    + blockCount * cache.blockSize() + " positions of sequence " + id);
        }
        length = newLength;
    }

    /**
     * Drops positions [newLength, length) (drafted tokens a verification rejected) and gives back the blocks past
     * the new end. Only unshared positions can go: the cached blocks stay read-only.
     */
    public void truncate(int newLength) {
        if (newLength > length) {
            throw new IllegalArgumentException("truncating sequence " + id + " of length " + length
                    + " cannot lengthen it to " + newLength);
        }
        setLength(newLength);
        int keep = blocksFor(newLength);
        while (blockCount > keep) {
            cache.pool().release(blocks[--blockCount]);
        }
    }

    /** Slot index (block id · blockSize + offset) holding position {@code pos}. */
    public int slot(int pos) {
        int blockSize = cache.blockSize();
        return blocks[pos / blockSize] * blockSize + pos % blockSize;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("sequence " + id + " is closed");
        }
    }

    /**
     * Returns every block to the pool, the last first: cached ones become idle in that order, so that eviction
     * takes a chain's tail before its head. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = blockCount - 1; i >= 0; i--) {
            cache.pool().release(blocks[i]);
        }
        if (recurrentSlot >= 0) {
            cache.releaseSlot(recurrentSlot);
        }
        blockCount = 0;
        sharedBlocks = 0;
        length = 0;
    }

    @Override
    public String toString() {
        return "Sequence[" + id + ", length " + length + ", " + blockCount + " blocks]";
    }
}
