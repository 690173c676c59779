package dev.moe4j.generate;

/**
 * Prompt-lookup drafting: the tokens that followed the most recent earlier occurrence of a sequence's last n tokens
 * (n from {@code maxNgram} down to 1) in its own prompt and output. A model that copies from its context (quoting,
 * editing, repeating) then gets several tokens per forward pass; a wrong draft costs only the extra positions.
 */
public final class PromptLookup {
    private final int draftTokens;
    private final int maxNgram;

    /**
     * @param draftTokens tokens proposed at most per step
     * @param maxNgram    longest suffix looked up first
     */
    public PromptLookup(int draftTokens, int maxNgram) {
        if (draftTokens < 1 || maxNgram < 1) {
            throw new IllegalArgumentException("draft tokens and n-gram length must be positive, were "
                    + draftTokens + " and " + maxNgram);
        }
        this.draftTokens = draftTokens;
        this.maxNgram = maxNgram;
    }

    public int draftTokens() {
        return draftTokens;
    }

    public int maxNgram() {
        return maxNgram;
    }

    /**
     * Proposes up to {@code limit} (at most {@link #draftTokens()}) tokens to follow {@code tokens[0, count)} into
     * {@code draft}; returns how many (0 when no suffix recurs).
     */
    public int draft(int[] tokens, int count, int limit, int[] draft) {
        int want = Math.min(limit, draftTokens);
        if (want <= 0) {
            return 0;
        }
        for (int n = Math.min(maxNgram, count - 1); n >= 1; n--) {
            int suffix = count - n;
            // latest start first; the match must leave at least one token after it, before the suffix's end
            for (int start = suffix - 1; start >= 0; start--) {
                if (matches(tokens, start, suffix, n)) {
                    int from = start + n;
                    int len = Math.min(want, count - from);
                    System.arraycopy(tokens, from, draft, 0, len);
                    return len;
                }
            }
        }
        return 0;
    }

    private static boolean matches(int[] tokens, int start, int suffix, int n) {
        for (int i = n - 1; i >= 0; i--) {
            if (tokens[start + i] != tokens[suffix + i]) {
                return false;
            }
        }
        return true;
    }
}
