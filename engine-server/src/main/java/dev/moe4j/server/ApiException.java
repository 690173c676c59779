package dev.moe4j.server;

/**
 * A request the server answers with an OpenAI-shaped error body
 * {@code {"error": {"message", "type", "param", "code"}}}.
 *
 * @param param      the request field at fault, or null
 * @param retryAfter seconds for a {@code Retry-After} header, or 0 for none
 */
final class ApiException extends RuntimeException {
    final int status;
    final String type;
    final String param;
    final String code;
    final int retryAfter;

    ApiException(int status, String type, String message, String param, String code, int retryAfter) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfter = retryAfter;
    }

    /** 400 naming the field at fault. */
    static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", message, param, null, 0);
    }

    /** 400 for a field the engine cannot honour: rejected rather than ignored. */
    static ApiException unsupported(String param, String what) {
        return new ApiException(400, "invalid_request_error", param + ": " + what, param, "unsupported_parameter", 0);
    }
}
