package dev.moe4j.tokenizer;

/** A tokenizer that cannot be built from its files, or ids that are not in the vocabulary. */
public class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
