package dev.moe4j.cache;

import dev.moe4j.api.ContextFullException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Fixed-size KV blocks by id, with reference counts, and optionally a prefix cache: a full block whose keys and
 * values are final can be registered under the hash chain of the tokens up to its end, found again by a later
 * sequence with the same tokens and shared by reference. A cached block that no sequence holds stays cached (idle)
 * until the pool needs a block and none is free; then the least recently released idle block is evicted. A cached
 * block is never written again: sequences only write positions past their length, and a shared block lies wholly
 * before it. Thread-safe.
 *
 * <p>Every block is in exactly one state: free (on the free stack), held (reference count above zero, cached or
 * not) or idle (cached, count zero, on the LRU list). {@link #checkConsistency()} verifies that.
 */
public final class BlockPool {
    private final int[] refCounts;
    private final int[] freeStack;
    private int freeCount;

    // the prefix cache; null arrays when it is off
    private final int blockSize;
    private final long identity;
    private final boolean[] cached;
    private final long[] hashes;
    /** The block before a cached block in its chain (-1 for a first block), and that block's epoch then. */
    private final int[] parents;
    private final int[] parentEpochs;
    /** Bumped whenever a block leaves the cache, so that a stale child's parent link no longer matches. */
    private final int[] epochs;
    /** A cached block's tokens, {@code blockSize} a block: a hit compares them, so a hash collision never matches. */
    private final int[] tokens;
    private final Map<Long, Integer> index;
    // idle cached blocks, least recently released at the head
    private final int[] lruPrev;
    private final int[] lruNext;
    private int lruHead = -1;
    private int lruTail = -1;
    private int idleCount;
    private long evictions;

    /** A pool without a prefix cache. */
    public BlockPool(int numBlocks) {
        this(numBlocks, 0, 0);
    }

    /**
     * A pool; with {@code blockSize > 0} it keeps a prefix cache of full blocks.
     *
     * @param identity what the cached keys and values depend on besides the tokens (model, block size, number
     *     format, activation mode): the root of every hash chain
     */
    public BlockPool(int numBlocks, int blockSize, long identity) {
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
        this.blockSize = blockSize;
        this.identity = identity;
        boolean caching = blockSize > 0;
        cached = caching ? new boolean[numBlocks] : null;
        hashes = caching ? new long[numBlocks] : null;
        parents = caching ? new int[numBlocks] : null;
        parentEpochs = caching ? new int[numBlocks] : null;
        epochs = caching ? new int[numBlocks] : null;
        tokens = caching ? new int[Math.multiplyExact(numBlocks, blockSize)] : null;
        index = caching ? new HashMap<>() : null;
        lruPrev = caching ? new int[numBlocks] : null;
        lruNext = caching ? new int[numBlocks] : null;
    }

    public int capacity() {
        return refCounts.length;
    }

    /** Whether full blocks can be registered and shared ({@link #register}). */
    public boolean caching() {
        return index != null;
    }

    /** Blocks no sequence holds: free ones and idle cached ones (evicted when needed). */
    public synchronized int freeBlocks() {
        return freeCount + idleCount;
    }

    /** Cached blocks no sequence holds. */
    public synchronized int idleCachedBlocks() {
        return idleCount;
    }

    /** Cached blocks, held or idle. */
    public synchronized int cachedBlocks() {
        return index == null ? 0 : index.size();
    }

    /** Idle cached blocks evicted to make room so far. */
    public synchronized long evictions() {
        return evictions;
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

    /**
     * A block with reference count one: a free one, else the least recently released idle cached one (dropped from
     * the cache); -1 when every block is held (the scheduler then preempts).
     */
    public synchronized int tryAllocate() {
        int block;
        if (freeCount > 0) {
            block = freeStack[--freeCount];
        } else if (idleCount > 0) {
            block = lruHead;
            unlink(block);
            uncache(block);
            evictions++;
        } else {
            return -1;
        }
        refCounts[block] = 1;
        return block;
    }

    /** Adds a reference to a block in use, or takes an idle cached block back into use. */
    public synchronized void retain(int block) {
        if (refCounts[block] == 0 && cached != null && cached[block]) {
            unlink(block);
        } else if (refCounts[block] <= 0) {
            throw new IllegalStateException("block " + block + " is not allocated");
        }
        refCounts[block]++;
    }

    /** Drops a reference; with none left the block becomes idle if cached, else free. */
    public synchronized void release(int block) {
        if (refCounts[block] <= 0) {
            throw new IllegalStateException("block " + block + " released more often than allocated");
        }
        if (--refCounts[block] == 0) {
            if (cached != null && cached[block]) {
                append(block);
            } else {
                freeStack[freeCount++] = block;
            }
        }
    }

    public synchronized int refCount(int block) {
        return refCounts[block];
    }

    /** Whether a block is in the prefix cache. */
    public synchronized boolean isCached(int block) {
        return cached != null && cached[block];
    }

    /** The hash chain's root: what a sequence's first block hashes from. */
    long rootHash() {
        return identity;
    }

    /** The chain hash of the block {@code tokens[from, from + blockSize)} after a block hashed {@code parent}. */
    long chain(long parent, int[] tokens, int from) {
        long h = mix(parent ^ 0x9E3779B97F4A7C15L);
        for (int i = 0; i < blockSize; i++) {
            h = mix(h ^ (tokens[from + i] & 0xFFFFFFFFL));
        }
        return h;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * The cached block holding {@code tokens[from, from + blockSize)} after {@code parent} (-1: the first block),
     * or -1. A hit is exact: its tokens are compared and its parent link must point at {@code parent} as it is now.
     */
    synchronized int lookup(long hash, int parent, int[] tokens, int from) {
        if (index == null) {
            return -1;
        }
        Integer found = index.get(hash);
        if (found == null) {
            return -1;
        }
        int block = found;
        if (stale(block)) {
            drop(block);
            return -1;
        }
        if (parents[block] != parent || (parent >= 0 && parentEpochs[block] != epochs[parent])
                || !Arrays.equals(this.tokens, block * blockSize, (block + 1) * blockSize, tokens, from,
                from + blockSize)) {
            return -1;
        }
        return block;
    }

    /**
     * Caches a held block whose keys and values for {@code tokens[from, from + blockSize)} are final, after the
     * cached block {@code parent} (-1: the first block). False when another block is already cached under the hash
     * (the caller keeps its block private) or the cache is off.
     */
    synchronized boolean register(int block, long hash, int parent, int[] tokens, int from) {
        if (index == null) {
            return false;
        }
        if (refCounts[block] <= 0 || cached[block]) {
            throw new IllegalStateException("block " + block + " cannot be cached: reference count "
                    + refCounts[block] + (cached[block] ? ", already cached" : ""));
        }
        if (parent >= 0 && (!cached[parent] || refCounts[parent] <= 0)) {
            throw new IllegalStateException("block " + block + "'s parent " + parent + " is not a held cached block");
        }
        Integer existing = index.get(hash);
        if (existing != null) {
            if (!stale(existing)) {
                return false;
            }
            drop(existing);
        }
        cached[block] = true;
        hashes[block] = hash;
        parents[block] = parent;
        parentEpochs[block] = parent >= 0 ? epochs[parent] : 0;
        System.arraycopy(tokens, from, this.tokens, block * blockSize, blockSize);
        index.put(hash, block);
        return true;
    }

    /** A cached block whose parent has left the cache since: no chain can reach it any more. */
    private boolean stale(int block) {
        int parent = parents[block];
        return parent >= 0 && (!cached[parent] || parentEpochs[block] != epochs[parent]);
    }

    /** Drops a stale block from the cache; a block that is held keeps its holder and leaves the cache only. */
    private void drop(int block) {
        if (refCounts[block] == 0) {
            unlink(block);
            uncache(block);
            freeStack[freeCount++] = block;
        } else {
            uncache(block);
        }
    }

    private void uncache(int block) {
        index.remove(hashes[block]);
        cached[block] = false;
        epochs[block]++;
    }

    private void append(int block) {
        lruPrev[block] = lruTail;
        lruNext[block] = -1;
        if (lruTail >= 0) {
            lruNext[lruTail] = block;
        } else {
            lruHead = block;
        }
        lruTail = block;
        idleCount++;
    }

    private void unlink(int block) {
        int prev = lruPrev[block];
        int next = lruNext[block];
        if (prev >= 0) {
            lruNext[prev] = next;
        } else {
            lruHead = next;
        }
        if (next >= 0) {
            lruPrev[next] = prev;
        } else {
            lruTail = prev;
        }
        idleCount--;
    }

    /**
     * Checks the bookkeeping: every block exactly one of free, held or idle; free blocks uncached; idle ones cached
     * and on the LRU list once; the index and the cached flags agree.
     *
     * @throws IllegalStateException naming the first block that breaks a rule
     */
    public synchronized void checkConsistency() {
        int n = refCounts.length;
        int[] seen = new int[n];
        for (int i = 0; i < freeCount; i++) {
            int b = freeStack[i];
            if (seen[b]++ > 0) {
                throw new IllegalStateException("block " + b + " is on the free stack twice");
            }
            if (refCounts[b] != 0) {
                throw new IllegalStateException("block " + b + " is free and referenced " + refCounts[b] + " times");
            }
            if (cached != null && cached[b]) {
                throw new IllegalStateException("block " + b + " is free and cached");
            }
        }
        int idle = 0;
        if (cached != null) {
            int prev = -1;
            for (int b = lruHead; b >= 0; b = lruNext[b]) {
                if (seen[b]++ > 0) {
                    throw new IllegalStateException("block " + b + " is idle and free, or idle twice");
                }
                if (refCounts[b] != 0 || !cached[b] || lruPrev[b] != prev) {
                    throw new IllegalStateException("idle block " + b + ": reference count " + refCounts[b]
                            + ", cached " + cached[b]);
                }
                prev = b;
                idle++;
            }
            if (prev != lruTail || idle != idleCount) {
                throw new IllegalStateException("the LRU list holds " + idle + " blocks, counted " + idleCount);
            }
            int cachedCount = 0;
            for (int b = 0; b < n; b++) {
                if (cached[b]) {
                    cachedCount++;
                    Integer at = index.get(hashes[b]);
                    if (at == null || at != b) {
                        throw new IllegalStateException("cached block " + b + " is not indexed under its hash");
                    }
                }
            }
            if (cachedCount != index.size()) {
                throw new IllegalStateException(index.size() + " index entries for " + cachedCount + " cached blocks");
            }
        }
        for (int b = 0; b < n; b++) {
            if (refCounts[b] < 0) {
                throw new IllegalStateException("block " + b + " has reference count " + refCounts[b]);
            }
            if (refCounts[b] > 0 && seen[b] > 0) {
                throw new IllegalStateException("block " + b + " is held and free or idle");
            }
            if (refCounts[b] == 0 && seen[b] == 0) {
                throw new IllegalStateException("block " + b + " is neither held, free nor idle (leaked)");
            }
        }
    }
}
