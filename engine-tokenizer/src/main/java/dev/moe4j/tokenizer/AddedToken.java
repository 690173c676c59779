package dev.moe4j.tokenizer;

import java.util.Objects;

/**
 * A token matched as a whole in the raw text before any other processing ({@code <|im_start|>}, {@code <think>}),
 * Hugging Face's "added token". {@code special} ones ({@code <|im_end|>}) are dropped by
 * {@code decode(ids, skipSpecialTokens = true)}; non-special ones ({@code <think>}) are not.
 *
 * <p>From GGUF token types: CONTROL → special, USER_DEFINED → not special.
 */
public record AddedToken(int id, String content, boolean special) {
    public AddedToken {
        Objects.requireNonNull(content, "content");
        if (id < 0) {
            throw new IllegalArgumentException("negative token id " + id + " for added token " + content);
        }
        if (content.isEmpty()) {
            throw new IllegalArgumentException("empty added token, id " + id);
        }
    }
}
