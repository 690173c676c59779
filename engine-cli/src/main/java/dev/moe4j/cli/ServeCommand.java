package dev.moe4j.cli;

import dev.moe4j.api.Engine;
import dev.moe4j.server.Moe4jServer;
import dev.moe4j.server.ServerOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code moe4j serve}: the OpenAI-compatible HTTP server ({@link Moe4jServer}) over one model, until stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Serve a model over an OpenAI-compatible HTTP API.",
        description = {"POST /v1/chat/completions and /v1/completions (streaming or not), GET /v1/models, /health and"
                + " /metrics (Prometheus). Binds to the loopback interface unless --host says otherwise; with"
                + " --api-key every route but /health needs 'Authorization: Bearer KEY'. Ctrl-C stops it."})
final class ServeCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--host", paramLabel = "ADDRESS", description = "address to bind (default: ${DEFAULT-VALUE})",
            defaultValue = ServerOptions.DEFAULT_HOST)
    String host;

    @Option(names = "--port", paramLabel = "N", description = "TCP port, 0 for any free one (default: ${DEFAULT-VALUE})",
            defaultValue = "" + ServerOptions.DEFAULT_PORT)
    int port;

    @Option(names = "--api-key", paramLabel = "KEY", description = "require this bearer token on every route but /health")
    String apiKey;

    @Option(names = "--model-id", paramLabel = "ID",
            description = "the model's name in /v1/models and responses (default: the file name)")
    String modelId;

    @Option(names = "--ctx", paramLabel = "N", description = "context length (default: the model's, as the KV cache allows)")
    Integer contextLength;

    @Option(names = "--parallel", paramLabel = "N",
            description = "sequences decoded together (default: ${DEFAULT-VALUE})", defaultValue = "8")
    int parallel;

    @Option(names = "--max-queue", paramLabel = "N",
            description = "requests allowed to wait; more get 503 with Retry-After (default: ${DEFAULT-VALUE})",
            defaultValue = "" + ServerOptions.DEFAULT_MAX_QUEUE)
    int maxQueue;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (port < 0 || port > 65535) {
            throw new UsageException("--port must be in [0, 65535], was " + port);
        }
        if (parallel < 1) {
            throw new UsageException("--parallel must be >= 1, was " + parallel);
        }
        if (maxQueue < 1) {
            throw new UsageException("--max-queue must be >= 1, was " + maxQueue);
        }
        if (contextLength != null && contextLength < 1) {
            throw new UsageException("--ctx must be >= 1, was " + contextLength);
        }
        if (apiKey != null && apiKey.isBlank()) {
            throw new UsageException("--api-key must not be blank");
        }
        Path path = model.resolve(main.err);
        Engine.Options options = Engine.Options.defaults().withMaxSequences(parallel);
        if (contextLength != null) {
            options = options.withContextLength(contextLength);
        }
        String id = modelId != null ? modelId : path.getFileName().toString().replaceFirst("\\.gguf$", "");
        Engine engine = model.loadEngine(path, options, main.err, main.terminal);
        Moe4jServer server;
        try {
            server = Moe4jServer.start(engine, ServerOptions.defaults(id).withHost(host).withPort(port)
                    .withApiKey(apiKey).withMaxQueue(maxQueue));
        } catch (IllegalStateException e) {
            // the address is taken or not ours: the user's to fix, so a message and exit 1, no stack trace
            engine.close();
            main.err.println("moe4j: " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
        // Ctrl-C (SIGINT) or SIGTERM: stop taking requests, then free the engine
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            server.close();
            engine.close();
        }));
        main.err.printf("serving %s at http://%s:%d/v1 (%s)%n", id, server.host(), server.port(),
                apiKey != null ? "bearer token required" : "no API key");
        server.join();
        return 0;
    }
}
