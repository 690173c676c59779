package dev.moe4j.server;

/**
 * How a {@link Moe4jServer} listens and what it accepts.
 *
 * @param host         the address to bind; {@code 127.0.0.1} by default so that nothing outside the machine can
 *                     reach an unprotected server ({@code 0.0.0.0} for every interface)
 * @param port         the TCP port; 0 = an ephemeral port, read it back with {@link Moe4jServer#port()}
 * @param apiKey       when set, every route but {@code /health} needs {@code Authorization: Bearer <apiKey>};
 *                     null = no authentication
 * @param maxBodyBytes request bodies larger than this get 413
 * @param maxQueue     generation requests allowed to wait for the engine; while this many wait, new ones get 503
 *                     with {@code Retry-After} instead of queueing without bound (how many run at once is the
 *                     engine's {@code Engine.Options.maxSequences})
 * @param modelId      the model name served by {@code /v1/models} and echoed in responses; a request naming
 *                     another model gets 404
 */
public record ServerOptions(String host, int port, String apiKey, long maxBodyBytes, int maxQueue, String modelId) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    public static final long DEFAULT_MAX_BODY_BYTES = 4L << 20;
    public static final int DEFAULT_MAX_QUEUE = 64;

    public ServerOptions {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host must be set (default " + DEFAULT_HOST + ")");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in [0, 65535] (0 = ephemeral), was " + port);
        }
        if (apiKey != null && apiKey.isBlank()) {
            throw new IllegalArgumentException("apiKey must not be blank (null = no authentication)");
        }
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("maxBodyBytes must be >= 1, was " + maxBodyBytes);
        }
        if (maxQueue < 1) {
            throw new IllegalArgumentException("maxQueue must be >= 1, was " + maxQueue);
        }
        if (modelId == null || modelId.isBlank()) {
            throw new IllegalArgumentException("modelId must be set");
        }
    }

    /** Loopback, port 8080, no API key, 4 MiB bodies, 64 waiting requests. */
    public static ServerOptions defaults(String modelId) {
        return new ServerOptions(DEFAULT_HOST, DEFAULT_PORT, null, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_QUEUE, modelId);
    }

    public ServerOptions withHost(String h) {
        return new ServerOptions(h, port, apiKey, maxBodyBytes, maxQueue, modelId);
    }

    public ServerOptions withPort(int p) {
        return new ServerOptions(host, p, apiKey, maxBodyBytes, maxQueue, modelId);
    }

    public ServerOptions withApiKey(String key) {
        return new ServerOptions(host, port, key, maxBodyBytes, maxQueue, modelId);
    }

    public ServerOptions withMaxBodyBytes(long bytes) {
        return new ServerOptions(host, port, apiKey, bytes, maxQueue, modelId);
    }

    public ServerOptions withMaxQueue(int requests) {
        return new ServerOptions(host, port, apiKey, maxBodyBytes, requests, modelId);
    }

    public ServerOptions withModelId(String id) {
        return new ServerOptions(host, port, apiKey, maxBodyBytes, maxQueue, id);
    }
}
