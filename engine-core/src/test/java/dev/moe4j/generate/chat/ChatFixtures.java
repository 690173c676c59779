package dev.moe4j.generate.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The chat-template reference fixtures in test resources (see fixtures/PROVENANCE.md). A missing one fails loudly. */
final class ChatFixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChatFixtures() {}

    /** One line of renderings.jsonl: the reference Jinja2 output for a request under template A, B or C. */
    record Rendering(int id, String template, JsonNode request, String expected) {
        @Override
        public String toString() {
            return "#" + id + " template " + template;
        }
    }

    static String text(String fileName) {
        try (InputStream in = ChatFixtures.class.getResourceAsStream("/fixtures/chat/" + fileName)) {
            if (in == null) {
                throw new IllegalStateException("test resource /fixtures/chat/" + fileName + " is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The Jinja text of fixture template A, B or C. */
    static String jinja(String letter) {
        return text("template_" + letter + ".jinja");
    }

    static List<Rendering> renderings() {
        List<Rendering> out = new ArrayList<>();
        for (String line : text("renderings.jsonl").split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            try {
                JsonNode json = JSON.readTree(line);
                out.add(new Rendering(json.get("id").asInt(), json.get("template").asText(), json, json.get("expected").asText()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalStateException("renderings.jsonl holds no renderings");
        }
        return out;
    }
}
