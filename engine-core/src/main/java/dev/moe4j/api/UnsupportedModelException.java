package dev.moe4j.api;

/** A well-formed model file that uses an architecture, tensor type or feature moe4j does not support. */
public class UnsupportedModelException extends Moe4jException {
    public UnsupportedModelException(String message) {
        super(message);
    }
}
