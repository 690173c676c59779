package dev.moe4j.api;

/** A well-formed model file that uses an architecture, tensor type or feature moe4j does not support. */
public class UnsupportedModelException extends Moe4jException {
    /**
     * An exception with a message naming what is not supported.
     *
     * @param message the architecture, tensor type or feature, and the file that uses it
     */
    public UnsupportedModelException(String message) {
        super(message);
    }
}
