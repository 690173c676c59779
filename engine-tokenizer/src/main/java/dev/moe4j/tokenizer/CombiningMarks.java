package dev.moe4j.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps NFC linear on long runs of combining marks. {@link java.text.Normalizer} puts marks into canonical order by
 * insertion sort, so a run of n marks out of order ({@code "e"} + 100,000 × {@code "\u0301\u0327"}) costs O(n²) —
 * minutes for a megabyte. Before normalising, each long run is replaced by its decomposition with the marks stably
 * sorted by canonical combining class: a canonically equivalent string, so NFC gives exactly the same result, but
 * the JDK then finds the marks already in order.
 *
 * <p>Java has no public API for combining classes, so they are probed from the JDK normaliser itself on first use
 * (a few tens of milliseconds): which marks it moves past others is their order. Every character with a non-zero
 * class is a mark (general category M), which is what makes a run easy to find.
 */
final class CombiningMarks {
    /** Runs up to this many marks are left to the JDK: at most a few hundred steps each. */
    static final int LONG_RUN = 32;

    private CombiningMarks() {}

    static boolean isMark(int cp) {
        int type = Character.getType(cp);
        return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK
                || type == Character.ENCLOSING_MARK;
    }

    /** The text with every run of more than {@link #LONG_RUN} marks canonically ordered; the same text if none. */
    static String orderLongRuns(String text) {
        StringBuilder out = null;
        int copied = 0;
        int i = 0;
        while (i < text.length()) {
            int cp = text.codePointAt(i);
            if (!isMark(cp)) {
                i += Character.charCount(cp);
                continue;
            }
            int runStart = i;
            int marks = 0;
            while (i < text.length() && isMark(cp = text.codePointAt(i))) {
                i += Character.charCount(cp);
                marks++;
            }
            if (marks > LONG_RUN) {
                if (out == null) {
                    out = new StringBuilder(text.length());
                }
                out.append(text, copied, runStart);
                appendCanonicallyOrdered(text, runStart, i, out);
                copied = i;
            }
        }
        return out == null ? text : out.append(text, copied, text.length()).toString();
    }

    /** Decomposes the marks of {@code text[from, to)} and sorts each stretch between class-0 marks by class. */
    private static void appendCanonicallyOrdered(String text, int from, int to, StringBuilder out) {
        int[] decomposed = new int[2 * (to - from) + 8];
        int n = 0;
        for (int i = from; i < to; ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            int[] parts = Classes.DECOMPOSITIONS.get(cp);
            if (parts == null) {
                parts = new int[] {cp};
            }
            if (n + parts.length > decomposed.length) {
                decomposed = Arrays.copyOf(decomposed, 2 * decomposed.length + parts.length);
            }
            for (int part : parts) {
                decomposed[n++] = part;
            }
        }
        long[] keys = new long[n]; // class rank << 32 | index: sorting them is a stable sort by rank
        int stretchStart = 0;
        for (int i = 0; i <= n; i++) {
            int rank = i < n ? Classes.rank(decomposed[i]) : 0;
            if (rank != 0) {
                keys[i] = ((long) rank << 32) | i;
                continue;
            }
            Arrays.sort(keys, stretchStart, i);
            for (int k = stretchStart; k < i; k++) {
                out.appendCodePoint(decomposed[(int) keys[k]]);
            }
            if (i < n) {
                out.appendCodePoint(decomposed[i]); // a class-0 mark stays where it is
            }
            stretchStart = i + 1;
        }
    }

    /** Combining-class ranks (same order as the classes, 0 for class 0) and decompositions of marks. */
    private static final class Classes {
        static final Map<Integer, Integer> RANKS = new HashMap<>();
        static final Map<Integer, int[]> DECOMPOSITIONS = new HashMap<>();
        private static final String CLASS_1 = "\u0334"; // combining tilde overlay, the lowest non-zero class
        private static final String CLASS_240 = "\u0345"; // combining Greek ypogegrammeni, the highest

        static {
            List<String> nonZero = new ArrayList<>();
            for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
                if (!isMark(cp)) {
                    continue;
                }
                String mark = Character.toString(cp);
                String nfd = Normalizer.normalize(mark, Normalizer.Form.NFD);
                if (!nfd.equals(mark)) {
                    DECOMPOSITIONS.put(cp, nfd.codePoints().toArray());
                } else if (movesBefore(CLASS_1, mark) || movesBefore(mark, CLASS_240)) {
                    nonZero.add(mark);
                }
            }
            nonZero.sort(Classes::compareClasses);
            int rank = 0;
            for (int i = 0; i < nonZero.size(); i++) {
                if (i == 0 || compareClasses(nonZero.get(i - 1), nonZero.get(i)) != 0) {
                    rank++;
                }
                RANKS.put(nonZero.get(i).codePointAt(0), rank);
            }
        }

        /** Whether canonical ordering moves {@code later} before {@code earlier}: its class is lower (and not 0). */
        private static boolean movesBefore(String later, String earlier) {
            return Normalizer.normalize(earlier + later, Normalizer.Form.NFD).equals(later + earlier);
        }

        private static int compareClasses(String a, String b) {
            if (movesBefore(b, a)) {
                return 1;
            }
            return movesBefore(a, b) ? -1 : 0;
        }

        static int rank(int cp) {
            return RANKS.getOrDefault(cp, 0);
        }
    }
}
