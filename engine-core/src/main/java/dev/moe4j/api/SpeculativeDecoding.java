package dev.moe4j.api;

/**
 * Speculative decoding with prompt-lookup drafts: a decoding request proposes the tokens that followed the latest
 * earlier occurrence of its last {@code maxNgram} (down to 1) tokens in its prompt and output, and one forward pass
 * over those positions verifies them. Greedy output stays identical to plain decoding; sampled output keeps the
 * sampler's distribution (each drafted token is accepted with its probability, a rejection samples from the rest),
 * though a seed then gives another sample than without drafts. Models with recurrent layers decode plainly (their
 * state cannot be cut back to drop rejected tokens), and so does the rounded-activation mode (a position's bits
 * there depend on its pass's size).
 *
 * @param draftTokens tokens proposed at most per step; 0 turns speculation off
 * @param maxNgram    the longest suffix looked up (then shorter ones, down to one token)
 * @param sampled     whether sampled requests take drafts too (greedy ones always do)
 */
public record SpeculativeDecoding(int draftTokens, int maxNgram, boolean sampled) {
    /** Plain decoding. */
    public static final SpeculativeDecoding OFF = new SpeculativeDecoding(0, 3, false);

    public SpeculativeDecoding {
        if (draftTokens < 0 || draftTokens > 64) {
            throw new InvalidRequestException("draftTokens must be in [0, 64] (0 turns drafts off), was "
                    + draftTokens);
        }
        if (maxNgram < 1) {
            throw new InvalidRequestException("maxNgram must be positive, was " + maxNgram);
        }
    }

    /** Prompt-lookup drafts of up to {@code draftTokens} tokens, suffixes of 3 tokens down to 1, all requests. */
    public static SpeculativeDecoding promptLookup(int draftTokens) {
        return new SpeculativeDecoding(draftTokens, 3, true);
    }

    /** Whether drafts are proposed at all. */
    public boolean enabled() {
        return draftTokens > 0;
    }
}
