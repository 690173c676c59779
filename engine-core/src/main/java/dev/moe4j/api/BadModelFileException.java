package dev.moe4j.api;

/** A model file that is corrupt, truncated or inconsistent. */
public class BadModelFileException extends Moe4jException {
    public BadModelFileException(String message) {
        super(message);
    }

    public BadModelFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
