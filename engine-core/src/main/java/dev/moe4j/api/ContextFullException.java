package dev.moe4j.api;

/** A sequence would grow past the context length, or the KV cache has no free block left. */
public class ContextFullException extends Moe4jException {
    public ContextFullException(String message) {
        super(message);
    }
}
