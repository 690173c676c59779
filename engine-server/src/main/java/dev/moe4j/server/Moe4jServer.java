package dev.moe4j.server;

import dev.moe4j.api.Engine;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible HTTP server over an {@link Engine}: {@code POST /v1/chat/completions},
 * {@code POST /v1/completions} (both streamed as server-sent events with {@code "stream": true}),
 * {@code GET /v1/models}, {@code GET /health} and {@code GET /metrics} (Prometheus text). Requests from all clients
 * are batched together by the engine's scheduler; a client that disconnects mid-stream cancels its generation.
 *
 * <pre>{@code
 * try (Engine engine = Engine.load(Path.of("Qwen3-0.6B-Q8_0.gguf"));
 *      Moe4jServer server = Moe4jServer.start(engine, ServerOptions.defaults("qwen3-0.6b"))) {
 *     server.join();
 * }
 * }</pre>
 *
 * <p>The server does not own the engine: closing the server leaves the engine open.
 */
public final class Moe4jServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Moe4jServer.class);

    private final Server server;
    private final ServerConnector connector;
    private final ServerOptions options;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Moe4jServer(Server server, ServerConnector connector, ServerOptions options) {
        this.server = server;
        this.connector = connector;
        this.options = options;
    }

    /**
     * Binds {@code options.host():options.port()} and starts serving.
     *
     * @throws IllegalStateException naming the address when it cannot be bound
     */
    public static Moe4jServer start(Engine engine, ServerOptions options) {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(options, "options");
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("moe4j-http");
        // handlers block (reading bodies, awaiting generations, writing streams): each runs on a virtual thread
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        Server server = new Server(threads);
        ServerConnector connector = new ServerConnector(server);
        connector.setHost(options.host());
        connector.setPort(options.port());
        server.addConnector(connector);
        server.setHandler(new ApiHandler(engine, options, new ServerMetrics(engine)));
        server.setStopTimeout(2000);
        try {
            server.start();
        } catch (Exception e) {
            try {
                server.stop();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new IllegalStateException("cannot serve on " + options.host() + ":" + options.port() + ": " + e, e);
        }
        LOG.info("serving {} on http://{}:{}{}", options.modelId(), options.host(), connector.getLocalPort(),
                options.apiKey() == null ? "" : " (API key required)");
        return new Moe4jServer(server, connector, options);
    }

    /** The port bound (the ephemeral one chosen when the options said 0). */
    public int port() {
        return connector.getLocalPort();
    }

    public String host() {
        return options.host();
    }

    public ServerOptions options() {
        return options;
    }

    /** Blocks until the server stops (another thread's {@link #close()}, or the JVM's shutdown). */
    public void join() throws InterruptedException {
        server.join();
    }

    /**
     * Stops accepting requests and closes open connections; running generations of streams are cancelled. Closing a
     * closed server does nothing.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            server.stop();
        } catch (Exception e) {
            LOG.warn("stopping the server failed", e);
        }
    }
}
