package dev.moe4j.cache;

import dev.moe4j.api.ContextFullException;
import java.util.Arrays;

/**
 * One sequence's view of the KV cache: its block table (logical block i → physical block id) and how many
 * positions hold keys and values. Obtain one from {@link KvCache#newSequence()}; {@link #close()} returns its
 * blocks. A sequence is used by one thread at a time.
 */
public final class Sequence implements AutoCloseable {
    private final KvCache cache;
    private final int id;
    private final int recurrentSlot;
    private int[] blocks = new int[4];
    private int blockCount;
    private int length;
    private boolean closed;

    Sequence(KvCache cache, int id, int recurrentSlot) {
        this.cache = cache;
        this.id = id;
        this.recurrentSlot = recurrentSlot;
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
        if (newLength < 0 || newLength > blockCount * cache.blockSize()) {
            throw new IllegalArgumentException("length " + newLength + " outside the reserved "
                    + blockCount * cache.blockSize() + " positions of sequence " + id);
        }
        length = newLength;
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

    /** Returns every block to the pool. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = 0; i < blockCount; i++) {
            cache.pool().release(blocks[i]);
        }
        if (recurrentSlot >= 0) {
            cache.releaseSlot(recurrentSlot);
        }
        blockCount = 0;
        length = 0;
    }

    @Override
    public String toString() {
        return "Sequence[" + id + ", length " + length + ", " + blockCount + " blocks]";
    }
}
