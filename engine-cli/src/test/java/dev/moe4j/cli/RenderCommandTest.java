package dev.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code moe4j render} on the chat fixtures: stdout must be the reference prompt's UTF-8 bytes, nothing more. */
class RenderCommandTest {
    /** The fixtures live in engine-core's test resources (see their PROVENANCE.md). */
    static final Path CHAT = Path.of("../engine-core/src/test/resources/fixtures/chat");

    @TempDir
    Path dir;

    private record Result(int code, byte[] out, String err) {}

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        // ISO-8859-1 on stdout: the command must write its own UTF-8 bytes, whatever the stream's charset
        int code = new Main(new PrintStream(out, true, StandardCharsets.ISO_8859_1),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(args);
        return new Result(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    static List<String> fixtureLines() throws IOException {
        List<String> lines = Files.readAllLines(CHAT.resolve("renderings.jsonl"), StandardCharsets.UTF_8).stream()
                .filter(line -> !line.isBlank()).toList();
        if (lines.isEmpty()) {
            throw new IllegalStateException("no renderings in " + CHAT);
        }
        return lines;
    }

    @ParameterizedTest
    @MethodSource("fixtureLines")
    void printsTheReferencePromptByteForByte(String line) throws IOException {
        JsonNode fixture = new ObjectMapper().readTree(line);
        Path request = Files.writeString(dir.resolve("request.json"), line, StandardCharsets.UTF_8);
        Path template = CHAT.resolve("template_" + fixture.get("template").asText() + ".jinja");
        Result r = run("render", "--chat-template", template.toString(), "--request", request.toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(fixture.get("expected").asText().getBytes(StandardCharsets.UTF_8), r.out(),
                () -> "id " + fixture.get("id") + ": " + new String(r.out(), StandardCharsets.UTF_8));
        assertEquals("", r.err());
    }

    @Test
    void readsTheTemplateAGgufModelCarries() throws IOException {
        String line = fixtureLines().get(5); // template C, tools and a tool call
        Path request = Files.writeString(dir.resolve("request.json"), line, StandardCharsets.UTF_8);
        Path model = CliTest.MODELS.resolve("qwen3-dense-tiny.f32.gguf");
        Result r = run("render", "--chat-template", model.toString(), "--request", request.toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(new ObjectMapper().readTree(line).get("expected").asText().getBytes(StandardCharsets.UTF_8), r.out());
    }

    @Test
    void acceptsATemplateName() throws IOException {
        Path request = Files.writeString(dir.resolve("r.json"), "{\"messages\": [{\"role\": \"user\", \"content\": \"Grüße\"}]}");
        Result r = run("render", "--chat-template", "qwen3-instruct-2507", "--request", request.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("<|im_start|>user\nGrüße<|im_end|>\n<|im_start|>assistant\n", new String(r.out(), StandardCharsets.UTF_8));
    }

    @Test
    void explainsWhatIsWrong() throws IOException {
        Path request = Files.writeString(dir.resolve("r.json"), "{\"messages\": [{\"role\": \"user\", \"content\": \"Q\"}]}");
        Path llama = Files.writeString(dir.resolve("llama.jinja"), "{% for m in messages %}{{ m.content }}{% endfor %}");

        Result unknown = run("render", "--chat-template", llama.toString(), "--request", request.toString());
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().contains("qwen3-thinking-2507") && unknown.err().contains("--chat-template NAME"), unknown.err());

        Result badName = run("render", "--chat-template", "chatml", "--request", request.toString());
        assertEquals(2, badName.code());
        assertTrue(badName.err().contains("neither a file nor a template name"), badName.err());

        Result missing = run("render", "--chat-template", "qwen3", "--request", dir.resolve("nope.json").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("does not exist"), missing.err());

        Path broken = Files.writeString(dir.resolve("broken.json"), "{\"messages\": [");
        Result invalid = run("render", "--chat-template", "qwen3", "--request", broken.toString());
        assertEquals(1, invalid.code());
        assertTrue(invalid.err().contains("broken.json") && invalid.err().contains("not valid JSON"), invalid.err());

        assertEquals(2, run("render", "--request", request.toString()).code());
    }
}
