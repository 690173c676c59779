package dev.moe4j.server;

import dev.moe4j.api.Engine;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;

/** The server's Prometheus metrics, in a registry of its own so that two servers in one JVM do not clash. */
final class ServerMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    final Counter requests;
    final Counter promptTokens;
    final Counter completionTokens;
    final Counter disconnects;
    final Histogram timeToFirstToken;
    final Histogram timePerOutputToken;

    ServerMetrics(Engine engine) {
        requests = Counter.builder().name("moe4j_http_requests")
                .help("HTTP requests answered, by route and status").labelNames("route", "status").register(registry);
        promptTokens = Counter.builder().name("moe4j_prompt_tokens")
                .help("prompt tokens read by generation requests").register(registry);
        completionTokens = Counter.builder().name("moe4j_completion_tokens")
                .help("tokens generated for generation requests (reasoning included)").register(registry);
        disconnects = Counter.builder().name("moe4j_client_disconnects")
                .help("streamed generations cancelled because their client went away").register(registry);
        timeToFirstToken = Histogram.builder().name("moe4j_time_to_first_token_seconds")
                .help("from a generation request's arrival to its first streamed text or tool call")
                .classicOnly()
                .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
                .register(registry);
        timePerOutputToken = Histogram.builder().name("moe4j_time_per_output_token_seconds")
                .help("a request's mean time per generated token after its first")
                .classicOnly()
                .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5)
                .register(registry);
        GaugeWithCallback.builder().name("moe4j_queued_requests")
                .help("requests waiting for the engine to start or resume them")
                .callback(cb -> cb.call(engine.queuedRequests())).register(registry);
        GaugeWithCallback.builder().name("moe4j_running_requests").help("requests generating now")
                .callback(cb -> cb.call(engine.runningRequests())).register(registry);
        GaugeWithCallback.builder().name("moe4j_kv_blocks_in_use").help("KV-cache blocks held by sequences")
                .callback(cb -> cb.call(engine.kvBlocks() - engine.freeKvBlocks())).register(registry);
        GaugeWithCallback.builder().name("moe4j_kv_blocks").help("KV-cache blocks in the pool")
                .callback(cb -> cb.call(engine.kvBlocks())).register(registry);
    }

    String contentType() {
        return writer.getContentType();
    }

    void write(OutputStream out) throws IOException {
        writer.write(out, registry.scrape());
    }
}
