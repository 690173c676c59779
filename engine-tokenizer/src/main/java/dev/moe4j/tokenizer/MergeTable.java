package dev.moe4j.tokenizer;

import java.util.Arrays;

/**
 * The BPE merges as an open-addressing hash table from a pair of token ids to the merge's rank and the id of the
 * merged token. Key and value sit side by side in one {@code long[]}, so a lookup — once per adjacent pair in every
 * piece, on a table of a few megabytes — costs one cache miss, not three.
 */
final class MergeTable {
    static final int NONE = -1;
    private static final long EMPTY = -1L;

    private final long[] table; // [2·slot] = left << 32 | right, or EMPTY; [2·slot + 1] = rank << 32 | merged id
    private final int mask;
    private int size;

    MergeTable(int expectedMerges) {
        int slots = Integer.highestOneBit(Math.max(4, expectedMerges) * 2 - 1) << 1; // load factor ≤ 1/2
        table = new long[2 * slots];
        mask = slots - 1;
        Arrays.fill(table, EMPTY);
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    /** Index in {@code table} of the key's entry, or of the empty entry where it would go. */
    private int indexOf(long key) {
        int slot = (int) ((key * 0x9E3779B97F4A7C15L) >>> 40) & mask;
        while (table[2 * slot] != EMPTY && table[2 * slot] != key) {
            slot = (slot + 1) & mask;
        }
        return 2 * slot;
    }

    /** Adds or replaces the merge of {@code left} and {@code right}. */
    void put(int left, int right, int rank, int mergedId) {
        long key = key(left, right);
        int index = indexOf(key);
        if (table[index] == EMPTY) {
            if (++size > (mask + 1) / 2) {
                throw new IllegalStateException("merge table over capacity: " + size);
            }
            table[index] = key;
        }
        table[index + 1] = ((long) rank << 32) | (mergedId & 0xFFFFFFFFL);
    }

    /** A handle on the pair's merge for {@link #rank} and {@link #merged}, or {@link #NONE}. */
    int find(int left, int right) {
        int index = indexOf(key(left, right));
        return table[index] == EMPTY ? NONE : index;
    }

    int rank(int handle) {
        return (int) (table[handle + 1] >>> 32);
    }

    int merged(int handle) {
        return (int) table[handle + 1];
    }
}
