package dev.moe4j.cli;

/**
 * A problem with how a command was called that only shows once the command runs (a file that does not exist, a
 * value that is not one of a list): reported like a parse error, with exit code 2 and no model loaded.
 */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}
