package dev.moe4j.api;

/** A sequence would grow past the context length, or the KV cache has no free block left. */
public class ContextFullException extends Moe4jException {
    /**
     * An exception with a message giving the lengths involved.
     *
     * @param message the sequence's or prompt's length and the limit it reached
     */
    public ContextFullException(String message) {
        super(message);
    }
}
