package dev.moe4j.api;

/** Base of moe4j's unchecked exceptions; the message names the file, key, tensor or parameter at fault. */
public class Moe4jException extends RuntimeException {
    /**
     * An exception with a message.
     *
     * @param message what went wrong, naming the file, key, tensor or parameter at fault
     */
    public Moe4jException(String message) {
        super(message);
    }

    /**
     * An exception with a message and a cause.
     *
     * @param message what went wrong, naming the file, key, tensor or parameter at fault
     * @param cause   the underlying error
     */
    public Moe4jException(String message, Throwable cause) {
        super(message, cause);
    }
}
