package dev.moe4j.tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * Byte-level BPE on one pre-tokenized piece: UTF-8 bytes → one-byte tokens → merges applied lowest rank first
 * (ties: leftmost first), as Hugging Face's {@code BPE::merge_word} does. A heap of candidate merges over a linked
 * list of symbols makes a piece of n bytes cost O(n log n), so one huge piece (a megabyte without spaces) is no
 * trap. Results for short pieces are cached; the {@link PieceCache} is the only mutable state and is thread-safe.
 */
final class ByteLevelBpe {
    private static final int CACHE_SLOTS = 1 << 16; // ~6 MB when full (entry, key string, ids)

    private final Vocabulary vocab;
    private final MergeTable merges;
    private final boolean ignoreMerges;
    private final PieceCache cache = new PieceCache(CACHE_SLOTS);

    /**
     * @param merges pairs of model tokens in rank order (rank = index)
     * @param ignoreMerges Hugging Face's {@code ignore_merges}: a piece that is itself a vocabulary token becomes
     *     that token without merging
     */
    ByteLevelBpe(Vocabulary vocab, List<String[]> merges, boolean ignoreMerges) {
        this.vocab = vocab;
        this.ignoreMerges = ignoreMerges;
        this.merges = new MergeTable(merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] pair = merges.get(rank);
            int left = requireModelToken(pair[0], rank, pair);
            int right = requireModelToken(pair[1], rank, pair);
            int merged = requireModelToken(pair[0] + pair[1], rank, pair);
            this.merges.put(left, right, rank, merged); // as in Hugging Face, a repeated pair keeps its last rank
        }
    }

    private int requireModelToken(String token, int rank, String[] pair) {
        int id = vocab.modelId(token);
        if (id < 0) {
            throw new TokenizerException("merge " + rank + " (" + pair[0] + " " + pair[1] + ") needs token "
                    + token + ", which is not in the vocabulary");
        }
        return id;
    }

    /** Appends the ids of piece {@code text[start, end)} to {@code out}. The piece holds no unpaired surrogate. */
    void encode(String text, int start, int end, IntList out, Work work) {
        if (end - start > PieceCache.MAX_PIECE_LENGTH) {
            merge(text, start, end, out, work);
            return;
        }
        int hash = PieceCache.hash(text, start, end);
        int[] ids = cache.get(text, start, end, hash);
        if (ids == null) {
            int from = out.size();
            merge(text, start, end, out, work);
            cache.put(text, start, end, hash, out.toArray(from));
            return;
        }
        out.addAll(ids);
    }

    private void merge(String text, int start, int end, IntList out, Work work) {
        work.reserve(Utf8.maxBytes(end - start));
        byte[] bytes = work.bytes;
        int n = Utf8.encode(text, start, end, bytes);
        if (ignoreMerges) {
            int id = vocab.modelId(ByteLevel.encode(bytes, 0, n));
            if (id >= 0) {
                out.add(id);
                return;
            }
        }
        int[] symbol = work.symbol; // position → token id; -1 once merged into its left neighbour
        int[] prev = work.prev;
        int[] next = work.next; // -1 past the last symbol
        for (int i = 0; i < n; i++) {
            symbol[i] = vocab.byteId(bytes[i]);
            prev[i] = i - 1;
            next[i] = i + 1;
        }
        next[n - 1] = -1;

        // Heap entries are (rank << 32 | position): smallest rank first, then leftmost, like Hugging Face's.
        work.heapSize = 0;
        for (int i = 0; i + 1 < n; i++) {
            pushPair(work, symbol, i, i + 1);
        }
        while (work.heapSize > 0) {
            long top = work.pop();
            int pos = (int) top;
            int rank = (int) (top >>> 32);
            int right = next[pos];
            if (symbol[pos] < 0 || right < 0) {
                continue; // stale: this symbol was merged away, or has nothing to its right any more
            }
            int slot = merges.find(symbol[pos], symbol[right]);
            if (slot == MergeTable.NONE || merges.rank(slot) != rank) {
                continue; // stale: the pair at pos changed since this entry was pushed
            }
            symbol[pos] = merges.merged(slot);
            symbol[right] = -1;
            int after = next[right];
            next[pos] = after;
            if (after >= 0) {
                prev[after] = pos;
                pushPair(work, symbol, pos, after);
            }
            if (prev[pos] >= 0) {
                pushPair(work, symbol, prev[pos], pos);
            }
        }
        for (int i = 0; i >= 0; i = next[i]) {
            out.add(symbol[i]);
        }
    }

    private void pushPair(Work work, int[] symbol, int left, int right) {
        int slot = merges.find(symbol[left], symbol[right]);
        if (slot != MergeTable.NONE) {
            work.push(((long) merges.rank(slot) << 32) | left);
        }
    }

    /** Scratch buffers for one encode call; not shared between threads. */
    static final class Work {
        byte[] bytes = new byte[64];
        int[] symbol = new int[64];
        int[] prev = new int[64];
        int[] next = new int[64];
        long[] heap = new long[64];
        int heapSize;

        void reserve(int n) {
            if (bytes.length < n) {
                int capacity = Math.max(n, bytes.length * 2);
                bytes = new byte[capacity];
                symbol = new int[capacity];
                prev = new int[capacity];
                next = new int[capacity];
            }
        }

        void push(long entry) {
            if (heapSize == heap.length) {
                heap = Arrays.copyOf(heap, heap.length * 2);
            }
            int i = heapSize++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= entry) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = entry;
        }

        long pop() {
            long top = heap[0];
            long last = heap[--heapSize];
            int i = 0;
            int half = heapSize >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                if (child + 1 < heapSize && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (last <= heap[child]) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }
    }
}
