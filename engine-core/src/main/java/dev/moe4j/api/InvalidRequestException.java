package dev.moe4j.api;

/** A request or parameter that cannot be served as given; the message names the parameter. */
public class InvalidRequestException extends Moe4jException {
    /**
     * An exception with a message naming the parameter and its value.
     *
     * @param message the parameter at fault, its value and what is allowed
     */
    public InvalidRequestException(String message) {
        super(message);
    }
}
