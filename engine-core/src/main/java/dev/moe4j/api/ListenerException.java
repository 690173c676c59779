package dev.moe4j.api;

/**
 * A request's own {@link ChatListener} threw (an exception or an {@link Error}); the request ended there and the
 * listener's throwable is the cause. Other requests are not affected.
 */
public class ListenerException extends Moe4jException {
    /**
     * An exception wrapping what the listener threw.
     *
     * @param cause the exception or {@link Error} a callback of the request's listener threw
     */
    public ListenerException(Throwable cause) {
        super("the request's listener threw " + cause, cause);
    }
}
