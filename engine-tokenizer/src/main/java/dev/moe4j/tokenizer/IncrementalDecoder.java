package dev.moe4j.tokenizer;

import java.util.Arrays;

/**
 * Streaming detokenisation: feed ids one at a time, get back only whole characters. A token that ends inside a
 * multi-byte UTF-8 character (byte-level tokens often do: an emoji may take three tokens) yields nothing until the
 * character is complete; bytes that can no longer become a valid character come out at once as U+FFFD.
 * {@link #flush()} at the end turns an incomplete last character into U+FFFD. The texts returned, concatenated,
 * equal {@link Tokenizer#decode(int[], boolean)} of all ids fed.
 *
 * <p>One instance per sequence; not thread-safe. Get one from {@link Tokenizer#newDecoder(boolean)}.
 */
public final class IncrementalDecoder {
    private final Vocabulary vocab;
    private final boolean skipSpecialTokens;
    private final StringBuilder text = new StringBuilder();
    private byte[] pending = new byte[32]; // bytes not yet decoded: at most an incomplete character after a call
    private int pendingLength;

    IncrementalDecoder(Vocabulary vocab, boolean skipSpecialTokens) {
        this.vocab = vocab;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /**
     * The text that token {@code id} completes; empty while a character is still incomplete.
     *
     * @throws TokenizerException if the id is not in the vocabulary (the decoder's state is then unchanged)
     */
    public String next(int id) {
        vocab.checkDefined(id);
        if (skipSpecialTokens && vocab.isSpecial(id)) {
            return "";
        }
        int start = vocab.bytesStart(id);
        int length = vocab.bytesEnd(id) - start;
        if (pendingLength + length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + length));
        }
        System.arraycopy(vocab.tokenBytes(), start, pending, pendingLength, length);
        pendingLength += length;
        return decodePending(false);
    }

    /** The rest of the text: an incomplete character left at the end becomes U+FFFD. Resets the decoder. */
    public String flush() {
        return decodePending(true);
    }

    private String decodePending(boolean endOfInput) {
        text.setLength(0);
        int consumed = Utf8.decode(pending, 0, pendingLength, endOfInput, text);
        System.arraycopy(pending, consumed, pending, 0, pendingLength - consumed);
        pendingLength -= consumed;
        return text.toString();
    }
}
