package dev.moe4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A real HTTP client for the tests, and the bundled demo model. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private Http() {}

    static Path tinyModel() {
        Path p = Path.of("..", "models", "qwen3-moe-tiny.q8_0.gguf");
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("the bundled model " + p.toAbsolutePath() + " is missing");
        }
        return p;
    }

    static URI uri(Moe4jServer server, String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    static HttpResponse<String> post(Moe4jServer server, String path, String body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(server, path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(Moe4jServer server, String path, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(server, path)).timeout(Duration.ofSeconds(30)).GET();
        if (headers.length > 0) {
            b.headers(headers);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(String text) throws IOException {
        return JSON.readTree(text);
    }

    /** The JSON payloads of a server-sent event stream, checking that it ends with [DONE]. */
    static List<JsonNode> events(String body) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        String last = null;
        for (String block : body.split("\n\n")) {
            if (block.isBlank() || block.startsWith(":")) {
                continue; // an SSE comment (keep-alive)
            }
            if (!block.startsWith("data: ")) {
                throw new AssertionError("not an SSE data line: " + block);
            }
            last = block.substring("data: ".length());
            if (!last.equals("[DONE]")) {
                out.add(JSON.readTree(last));
            }
        }
        assertEquals("[DONE]", last, "the stream ends with data: [DONE]");
        return out;
    }
}
