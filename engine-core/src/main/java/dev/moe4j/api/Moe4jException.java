package dev.moe4j.api;

/** Base of moe4j's unchecked exceptions; the message names the file, key, tensor or parameter at fault. */
public class Moe4jException extends RuntimeException {
    public Moe4jException(String message) {
        super(message);
    }

    public Moe4jException(String message, Throwable cause) {
        super(message, cause);
    }
}
