package dev.moe4j.cache;

import dev.moe4j.api.ContextFullException;

/**
 * Fixed-size KV blocks by id, with reference counts so that a shared prefix can later be mapped into several
 * block tables. Thread-safe.
 */
public final class BlockPool {
    private final int[] refCounts;
    private final int[] freeStack;
    private int freeCount;

    public BlockPool(int numBlocks) {
        if (numBlocks < 1) {
            throw new IllegalArgumentException("a KV block pool needs at least one block, got " + numBlocks);
        }
        refCounts = new int[numBlocks];
        freeStack = new int[numBlocks];
        // hand out low ids first
        for (int i = 0; i < numBlocks; i++) {
            freeStack[i] = numBlocks - 1 - i;
        }
        freeCount = numBlocks;
    }

    public int capacity() {
        return refCounts.length;
    }

    public synchronized int freeBlocks() {
        return freeCount;
    }

    /** A free block with reference count one. */
    public synchronized int allocate() {
        int block = tryAllocate();
        if (block < 0) {
            throw new ContextFullException("the KV cache is full: all " + refCounts.length
                    + " blocks are in use (close finished sequences or give the cache a larger budget)");
        }
        return block;
    }

    /** A free block with reference count one, or -1 when none is free (the scheduler then preempts). */
    public synchronized int tryAllocate() {
        if (freeCount == 0) {
            return -1;
        }
        int block = freeStack[--freeCount];
        refCounts[block] = 1;
        return block;
    }

    /** Adds a reference to a block in use (prefix sharing). */
    public synchronized void retain(int block) {
        if (refCounts[block] <= 0) {
            throw new IllegalStateException("block " + block + " is not allocated");
        }
        refCounts[block]++;
    }

    /** Drops a reference; the block returns to the pool when none remain. */
    public synchronized void release(int block) {
        if (refCounts[block] <= 0) {
            throw new IllegalStateException("block " + block + " released more often than allocated");
        }
        if (--refCounts[block] == 0) {
            freeStack[freeCount++] = block;
        }
    }

    public synchronized int refCount(int block) {
        return refCounts[block];
    }
}
