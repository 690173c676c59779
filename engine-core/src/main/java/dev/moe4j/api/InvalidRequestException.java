package dev.moe4j.api;

/** A request or parameter that cannot be served as given; the message names the parameter. */
public class InvalidRequestException extends Moe4jException {
    public InvalidRequestException(String message) {
        super(message);
    }
}
