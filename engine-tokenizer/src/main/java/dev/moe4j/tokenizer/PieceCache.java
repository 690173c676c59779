package dev.moe4j.tokenizer;

/**
 * Remembers the ids of recently encoded pieces: a direct-mapped table (a new piece overwrites whatever shared its
 * slot), looked up by a slice of the text so a hit allocates nothing. Lock-free and thread-safe: entries are
 * immutable and published through their final fields, so a racing reader sees either a whole entry or another; a
 * lost write only costs a later miss.
 */
final class PieceCache {
    static final int MAX_PIECE_LENGTH = 64; // chars; longer pieces are rare and not worth keeping

    private record Entry(String piece, int hash, int[] ids) {}

    private final Entry[] slots;
    private final int mask;

    PieceCache(int slotCount) {
        if (Integer.bitCount(slotCount) != 1) {
            throw new IllegalArgumentException("slot count must be a power of two: " + slotCount);
        }
        slots = new Entry[slotCount];
        mask = slotCount - 1;
    }

    static int hash(String text, int start, int end) {
        int h = 0;
        for (int i = start; i < end; i++) {
            h = 31 * h + text.charAt(i);
        }
        return h ^ (h >>> 16);
    }

    /** The cached ids of {@code text[start, end)}, or null. */
    int[] get(String text, int start, int end, int hash) {
        Entry entry = slots[hash & mask];
        if (entry != null && entry.hash == hash && entry.piece.length() == end - start
                && text.regionMatches(start, entry.piece, 0, end - start)) {
            return entry.ids;
        }
        return null;
    }

    void put(String text, int start, int end, int hash, int[] ids) {
        slots[hash & mask] = new Entry(text.substring(start, end), hash, ids);
    }
}
