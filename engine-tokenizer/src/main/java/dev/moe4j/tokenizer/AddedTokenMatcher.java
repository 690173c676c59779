package dev.moe4j.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in raw text, leftmost first and longest at a position, like the Aho–Corasick "leftmost
 * longest" search of Hugging Face's {@code AddedVocabulary}. Added tokens are few (26 for Qwen3), so a table of
 * candidates by first character is enough; most characters start no token and cost one array read.
 */
final class AddedTokenMatcher {
    private final boolean[] startsSomeToken = new boolean[0x10000];
    private final Map<Character, AddedToken[]> byFirstChar; // candidates, longest first

    AddedTokenMatcher(List<AddedToken> tokens) {
        Map<Character, List<AddedToken>> grouped = new HashMap<>();
        for (AddedToken token : tokens) {
            char first = token.content().charAt(0);
            startsSomeToken[first] = true;
            grouped.computeIfAbsent(first, c -> new ArrayList<>()).add(token);
        }
        byFirstChar = new HashMap<>();
        grouped.forEach((first, candidates) -> {
            candidates.sort(Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed());
            byFirstChar.put(first, candidates.toArray(AddedToken[]::new));
        });
    }

    boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    /** The longest added token that occurs in {@code text} at {@code index}, or {@code null}. */
    AddedToken matchAt(String text, int index) {
        return matchAt(text, index, text.length());
    }

    /** The longest added token that occurs in {@code text} at {@code index} and ends by {@code limit}, or null. */
    AddedToken matchAt(String text, int index, int limit) {
        char c = text.charAt(index);
        if (!startsSomeToken[c]) {
            return null;
        }
        for (AddedToken candidate : byFirstChar.get(c)) {
            if (index + candidate.content().length() <= limit && text.startsWith(candidate.content(), index)) {
                return candidate;
            }
        }
        return null;
    }
}
