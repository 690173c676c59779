package dev.moe4j.api;

/** A model file that is corrupt, truncated or inconsistent. */
public class BadModelFileException extends Moe4jException {
    /**
     * An exception with a message naming the file, key, tensor or byte range at fault.
     *
     * @param message what is wrong and where
     */
    public BadModelFileException(String message) {
        super(message);
    }

    /**
     * An exception with a message naming the file at fault and the error that revealed the problem.
     *
     * @param message what is wrong and where
     * @param cause   the underlying error, such as an {@link java.io.IOException} while reading
     */
    public BadModelFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
