package dev.moe4j.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The prefix cache's bookkeeping in the pool and in sequences, without a model. */
class BlockPoolTest {
    private static final int BLOCK = 4;

    private static KvCache cache(int blocks) {
        return new KvCache(List.of(new LayerState.Kv(8)), BLOCK, blocks, 64, 1, new KvCache.PrefixCaching(1, 1));
    }

    /** A sequence that has "computed" {@code tokens} and offered its full blocks. */
    private static Sequence filled(KvCache cache, int[] tokens) {
        Sequence s = cache.newSequence();
        s.reserve(tokens.length);
        s.setLength(tokens.length);
        s.commitBlocks(tokens, tokens.length);
        return s;
    }

    @Test
    void aClosedSequencesBlocksStayCachedAndAreFoundAgain() {
        KvCache cache = cache(8);
        int[] tokens = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        Sequence a = filled(cache, tokens);
        int[] table = a.blockTable();
        assertEquals(2, a.sharedBlocks(), "two full blocks; the partial third stays private");
        a.close();
        assertEquals(8, cache.pool().freeBlocks());
        assertEquals(2, cache.pool().idleCachedBlocks());
        assertArrayEquals(new int[] {table[0], table[1]}, cache.cachedPrefix(tokens, 9));
        assertArrayEquals(new int[] {table[0]}, cache.cachedPrefix(tokens, 1));
        assertArrayEquals(new int[0], cache.cachedPrefix(new int[] {1, 2, 3, 9, 5, 6, 7, 8}, 2));
        // the same second block after another first block is another chain
        assertArrayEquals(new int[0], cache.cachedPrefix(new int[] {0, 2, 3, 4, 5, 6, 7, 8}, 2));

        Sequence b = cache.newSequence();
        assertEquals(8, b.adoptPrefix(tokens, 2));
        assertEquals(0, cache.pool().idleCachedBlocks());
        assertEquals(1, cache.pool().refCount(table[0]));
        assertThrows(IllegalArgumentException.class, () -> b.setLength(7), "cached blocks are read-only");
        b.close();
        cache.pool().checkConsistency();
    }

    @Test
    void sharedBlocksAreCountedOnceAndFreedByTheLastHolder() {
        KvCache cache = cache(8);
        int[] tokens = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        Sequence a = filled(cache, tokens);
        Sequence b = cache.newSequence();
        b.adoptPrefix(tokens, 2);
        int shared = a.blockTable()[0];
        assertEquals(shared, b.blockTable()[0]);
        assertEquals(2, cache.pool().refCount(shared));
        assertEquals(8 - 3, cache.pool().freeBlocks(), "a's three blocks, b's two of them shared");
        a.close();
        assertEquals(1, cache.pool().refCount(shared));
        b.close();
        assertEquals(0, cache.pool().refCount(shared));
        cache.pool().checkConsistency();
        assertEquals(8, cache.pool().freeBlocks());
    }

    @Test
    void idleBlocksAreEvictedLeastRecentlyReleasedFirstAndTailFirst() {
        KvCache cache = cache(4);
        int[] first = {1, 2, 3, 4, 5, 6, 7, 8};
        int[] second = {9, 9, 9, 9};
        Sequence a = filled(cache, first);
        int[] aTable = a.blockTable();
        a.close();
        Sequence b = filled(cache, second);
        b.close();
        assertEquals(3, cache.pool().idleCachedBlocks());
        // one free block, then the oldest idle one: a's tail, released before its head
        Sequence c = cache.newSequence();
        c.reserve(2 * BLOCK);
        assertEquals(1, cache.pool().evictions());
        assertFalse(cache.pool().isCached(aTable[1]));
        assertTrue(cache.pool().isCached(aTable[0]));
        assertArrayEquals(new int[] {aTable[0]}, cache.cachedPrefix(first, 2), "the head is still found");
        assertEquals(1, cache.cachedPrefix(second, 1).length);
        c.close();
        cache.pool().checkConsistency();
    }

    @Test
    void aHitComparesTokensNotOnlyTheHash() {
        BlockPool pool = new BlockPool(4, BLOCK, 1);
        int block = pool.allocate();
        assertTrue(pool.register(block, 42L, -1, new int[] {1, 2, 3, 4}, 0));
        assertEquals(block, pool.lookup(42L, -1, new int[] {1, 2, 3, 4}, 0));
        assertEquals(-1, pool.lookup(42L, -1, new int[] {1, 2, 3, 5}, 0), "same hash, other tokens: a miss");
        int other = pool.allocate();
        assertFalse(pool.register(other, 42L, -1, new int[] {1, 2, 3, 5}, 0), "the first holder of a hash stays");
        pool.release(other);
        pool.release(block);
        pool.checkConsistency();
    }

    @Test
    void aChildWhoseParentWasEvictedIsNeverReturned() {
        KvCache cache = cache(3);
        int[] tokens = {1, 2, 3, 4, 5, 6, 7, 8};
        Sequence a = filled(cache, tokens);
        int[] table = a.blockTable();
        a.close();
        BlockPool pool = cache.pool();
        Sequence b = cache.newSequence();
        b.reserve(3 * BLOCK);
        assertFalse(pool.isCached(table[0]));
        assertFalse(pool.isCached(table[1]));
        b.close();
        assertArrayEquals(new int[0], cache.cachedPrefix(tokens, 2));
        Sequence again = filled(cache, tokens);
        assertEquals(2, again.sharedBlocks(), "the chain is cached again under the same hashes");
        again.close();
        assertEquals(2, cache.cachedPrefix(tokens, 2).length);
        pool.checkConsistency();
    }

    @Test
    void aStaleChildIsDroppedWhenItsChainIsCachedAgain() {
        // the head evicted alone leaves the tail cached but unreachable; caching the chain again replaces it
        KvCache cache = cache(3);
        BlockPool pool = cache.pool();
        int[] tokens = {1, 2, 3, 4, 5, 6, 7, 8};
        Sequence a = filled(cache, tokens);
        int[] table = a.blockTable();
        Sequence holder = cache.newSequence();
        holder.adoptPrefix(tokens, 2); // retains both
        a.close();
        holder.close(); // releases the tail first, then the head: LRU holds tail, head
        // take the tail back by hand, so that only the head is idle, and evict it
        pool.retain(table[1]);
        Sequence b = cache.newSequence();
        b.reserve(2 * BLOCK); // the free block, then the head
        assertFalse(pool.isCached(table[0]));
        assertTrue(pool.isCached(table[1]), "the tail is still cached, its parent gone");
        pool.release(table[1]);
        b.close();
        assertArrayEquals(new int[0], cache.cachedPrefix(tokens, 2));
        Sequence again = filled(cache, tokens);
        assertEquals(2, again.sharedBlocks());
        again.close();
        assertEquals(2, pool.cachedBlocks(), "the stale tail left the cache");
        pool.checkConsistency();
    }

    @Test
    void twoSequencesCachingTheSameTokensEndOnOneBlock() {
        KvCache cache = cache(8);
        int[] tokens = {1, 2, 3, 4, 5};
        Sequence a = filled(cache, tokens);
        Sequence b = filled(cache, tokens);
        assertEquals(a.blockTable()[0], b.blockTable()[0], "b took a's cached block and freed its own");
        assertEquals(2, cache.pool().refCount(a.blockTable()[0]));
        assertEquals(8 - 3, cache.pool().freeBlocks());
        a.close();
        b.close();
        cache.pool().checkConsistency();
    }

    @Test
    void recurrentLayersRefuseAPrefixCache() {
        assertThrows(IllegalArgumentException.class, () -> new KvCache(
                List.of(new LayerState.Kv(8), new LayerState.Recurrent(4, 16)), BLOCK, 4, 16, 1,
                new KvCache.PrefixCaching(1, 1)));
    }
}
