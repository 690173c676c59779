package dev.moe4j.api;

/**
 * The engine's scheduler is no longer running: it was closed, or it stopped on an error (the cause). Requests
 * waiting or submitted afterwards fail with this at once instead of waiting forever.
 */
public class EngineStoppedException extends Moe4jException {
    /**
     * An exception saying why the engine stopped.
     *
     * @param message whether the engine was closed or its scheduler failed
     * @param cause   the error that stopped the scheduler, or null when the engine was closed
     */
    public EngineStoppedException(String message, Throwable cause) {
        super(message, cause);
    }
}
