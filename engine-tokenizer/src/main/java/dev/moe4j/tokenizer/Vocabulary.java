package dev.moe4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Token strings by id, split into the BPE model's tokens (byte-level strings) and added tokens (raw text), with the
 * bytes every token decodes to. Ids without a token (gaps, or padding rows the caller chose not to name) are
 * "undefined": decoding them is an error.
 */
final class Vocabulary {
    private final String[] tokens; // id → token string, null if undefined
    private final Map<String, Integer> modelIds; // BPE token string → id; added tokens are not in it
    private final List<AddedToken> addedTokens; // by id
    private final boolean[] added;
    private final boolean[] special;
    private final byte[] tokenBytes; // the bytes of all tokens, back to back
    private final int[] tokenOffsets; // id → start in tokenBytes; [size] = end
    private final int[] byteIds; // byte value → id of its one-character token

    /**
     * @param tokens token strings by id ({@code null} for an undefined id); added tokens may appear here or only in
     *     {@code addedTokens}
     */
    Vocabulary(String[] tokens, Collection<AddedToken> addedTokens) {
        int size = tokens.length;
        for (AddedToken token : addedTokens) {
            size = Math.max(size, token.id() + 1);
        }
        this.tokens = Arrays.copyOf(tokens, size);
        this.added = new boolean[size];
        this.special = new boolean[size];
        List<AddedToken> sortedAdded = new ArrayList<>(addedTokens);
        sortedAdded.sort(Comparator.comparingInt(AddedToken::id));
        for (AddedToken token : sortedAdded) {
            String existing = this.tokens[token.id()];
            if (existing != null && !existing.equals(token.content())) {
                throw new TokenizerException("added token " + token.content() + " has id " + token.id()
                        + ", which the vocabulary gives to " + existing);
            }
            if (added[token.id()]) {
                throw new TokenizerException("two added tokens with id " + token.id());
            }
            this.tokens[token.id()] = token.content();
            added[token.id()] = true;
            special[token.id()] = token.special();
        }
        this.addedTokens = List.copyOf(sortedAdded);

        modelIds = HashMap.newHashMap(size);
        for (int id = 0; id < size; id++) {
            if (this.tokens[id] != null && !added[id]) {
                modelIds.putIfAbsent(this.tokens[id], id); // a repeated string keeps its first id
            }
        }

        tokenOffsets = new int[size + 1];
        byte[][] perToken = new byte[size][];
        int total = 0;
        for (int id = 0; id < size; id++) {
            String token = this.tokens[id];
            if (token != null) {
                // Added tokens are raw text; model tokens are byte-level strings (Hugging Face's ByteLevel decoder).
                perToken[id] = added[id] ? token.getBytes(StandardCharsets.UTF_8) : ByteLevel.decodeToken(token);
                total += perToken[id].length;
            }
        }
        tokenBytes = new byte[total];
        int offset = 0;
        for (int id = 0; id < size; id++) {
            tokenOffsets[id] = offset;
            if (perToken[id] != null) {
                System.arraycopy(perToken[id], 0, tokenBytes, offset, perToken[id].length);
                offset += perToken[id].length;
            }
        }
        tokenOffsets[size] = offset;

        byteIds = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = modelIds.get(String.valueOf(ByteLevel.toChar(b)));
            if (id == null) {
                throw new TokenizerException(String.format(
                        "vocabulary has no token for byte 0x%02X (%s); a byte-level BPE needs all 256",
                        b, ByteLevel.toChar(b)));
            }
            byteIds[b] = id;
        }
    }

    int size() {
        return tokens.length;
    }

    boolean isDefined(int id) {
        return id >= 0 && id < tokens.length && tokens[id] != null;
    }

    /** The token string: a byte-level string for model tokens, the raw text for added tokens. */
    String token(int id) {
        checkDefined(id);
        return tokens[id];
    }

    boolean isAdded(int id) {
        return isDefined(id) && added[id];
    }

    boolean isSpecial(int id) {
        return isDefined(id) && special[id];
    }

    List<AddedToken> addedTokens() {
        return addedTokens;
    }

    /** The id of a BPE model token (not an added token), or -1. */
    int modelId(String token) {
        Integer id = modelIds.get(token);
        return id == null ? -1 : id;
    }

    /** The id of the one-character token for byte {@code b}. */
    int byteId(int b) {
        return byteIds[b & 0xFF];
    }

    /** All tokens' bytes back to back; token {@code id} is {@code [bytesStart(id), bytesEnd(id))}. */
    byte[] tokenBytes() {
        return tokenBytes;
    }

    int bytesStart(int id) {
        checkDefined(id);
        return tokenOffsets[id];
    }

    int bytesEnd(int id) {
        return tokenOffsets[id + 1];
    }

    void checkDefined(int id) {
        if (!isDefined(id)) {
            throw new TokenizerException(id >= 0 && id < tokens.length
                    ? "token id " + id + " has no token in this vocabulary (size " + tokens.length + ")"
                    : "token id " + id + " is out of range for vocabulary size " + tokens.length);
        }
    }
}
