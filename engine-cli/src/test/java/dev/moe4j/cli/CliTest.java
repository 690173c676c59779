package dev.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.StringJoiner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands as other programs call them, checked against the llama.cpp reference fixtures. */
class CliTest {
    /** The fixtures live in engine-core's test resources (see their PROVENANCE.md). */
    static final Path MODELS = Path.of("../engine-core/src/test/resources/fixtures/models");

    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {}

    private static Result run(String... args) {
        return runWithInput("", args);
    }

    private static Result runWithInput(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = new Main(new java.io.ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(args);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static JsonNode ref(String stem) throws Exception {
        return new ObjectMapper().readTree(MODELS.resolve(stem + ".ref.json").toFile());
    }

    private static String ids(JsonNode array, String sep) {
        StringJoiner j = new StringJoiner(sep);
        array.forEach(n -> j.add(n.asText()));
        return j.toString();
    }

    @Test
    void logitsCommandWritesReferenceLogits() throws Exception {
        JsonNode ref = ref("qwen3-moe-tiny.f32");
        Path out = dir.resolve("logits.f32");
        Result r = run("logits", "--model", MODELS.resolve("qwen3-moe-tiny.f32.gguf").toString(),
                "--tokens", ids(ref.get("tokens"), ","), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        float[] got = floats(out);
        float[] expected = floats(MODELS.resolve(ref.get("logits_file").asText()));
        assertEquals(expected.length, got.length);
        double max = 0;
        for (int i = 0; i < got.length; i++) {
            max = Math.max(max, Math.abs(got[i] - expected[i]));
        }
        assertTrue(max <= 1e-4, "max |Δ| " + max);
    }

    @Test
    void generateCommandPrintsReferenceGreedyIds() throws Exception {
        JsonNode ref = ref("qwen3-dense-tiny.f32");
        Result r = run("generate", "--model", MODELS.resolve("qwen3-dense-tiny.f32.gguf").toString(),
                "--tokens", ids(ref.get("prompt_tokens"), ","), "-n", "32", "--greedy");
        assertEquals(0, r.code(), r.err());
        assertEquals(ids(ref.get("greedy_from_prompt"), " "), r.out().trim());
    }

    @Test
    void roundedActivationsOptionReachesTheLoaderOfItsCommand() throws Exception {
        JsonNode ref = ref("qwen3-dense-tiny.q4_0");
        String prompt = ids(ref.get("prompt_tokens"), ",");
        Result r = run("generate", "--model", MODELS.resolve("qwen3-dense-tiny.q4_0.gguf").toString(),
                "--tokens", prompt, "-n", "8", "--greedy", "--rounded-activations");
        assertEquals(0, r.code(), r.err());
        String[] generated = r.out().trim().split(" ");
        assertEquals(8, generated.length, r.out());
        for (String id : generated) {
            int token = Integer.parseInt(id);
            assertTrue(token >= 0 && token < ref.get("n_vocab").asInt(), "token " + token);
        }
        // the loader got the option (the load line reports what it was given), and only this command did
        assertTrue(r.err().contains("rounded activations"), r.err());
        Result plain = run("generate", "--model", MODELS.resolve("qwen3-dense-tiny.q4_0.gguf").toString(),
                "--tokens", prompt, "-n", "1", "--greedy");
        assertEquals(0, plain.code(), plain.err());
        assertTrue(!plain.err().contains("rounded activations"), plain.err());
    }

    @Test
    void benchPrefixCacheTakesTheSystemPromptFromTheCache() {
        String model = MODELS.resolve("qwen3-moe-tiny.q8_0.gguf").toString();
        Result on = run("bench", "--model", model, "--prefix-cache", "--system", "80", "--user", "8", "-r", "1",
                "--json", "--no-warmup");
        assertEquals(0, on.code(), on.err());
        assertTrue(on.out().contains("\"test\": \"prefix80\""), on.out());
        // whole blocks of the 80-token system prompt; the last may differ where the user turn's text joins it
        assertTrue(on.out().contains("\"cached_tokens\": 80,") || on.out().contains("\"cached_tokens\": 64,"),
                on.out());
        Result off = run("bench", "--model", model, "--prefix-cache", "--system", "80", "--user", "8", "-r", "1",
                "--json", "--no-warmup", "--no-prefix-cache");
        assertEquals(0, off.code(), off.err());
        assertTrue(off.out().contains("\"cached_tokens\": 0,") && off.out().contains("\"prefix_cache\": false"),
                off.out());
    }

    @Test
    void benchSpeculativeDecodesTheCopyFromDrafts() throws Exception {
        Path copy = dir.resolve("copy.gguf");
        dev.moe4j.bench.SpeculativeBench.writeCopyModel(MODELS.resolve("qwen3-moe-tiny.q8_0.gguf"), copy);
        Result r = run("bench", "--model", copy.toString(), "--speculative", "-n", "48", "-r", "1", "--json",
                "--draft-tokens", "5");
        assertEquals(0, r.code(), r.err());
        JsonNode line = new ObjectMapper().readTree(r.out());
        assertEquals(48, line.get("gen_tokens").asInt(), r.out());
        assertEquals(5, line.get("draft_tokens").asInt(), r.out());
        assertTrue(line.get("acceptance").asDouble() > 0.5, r.out());
    }

    @Test
    void generateWithDraftsIsPlainGreedy() {
        String model = MODELS.resolve("qwen3-moe-tiny.q8_0.gguf").toString();
        Result plain = run("generate", "--model", model, "-p", "one two three one two three one two", "-n", "24",
                "--greedy", "--no-warmup", "--ctx", "128");
        Result drafted = run("generate", "--model", model, "-p", "one two three one two three one two", "-n", "24",
                "--greedy", "--no-warmup", "--ctx", "128", "--draft", "prompt-lookup", "--draft-tokens", "4");
        assertEquals(0, drafted.code(), drafted.err());
        assertEquals(plain.out(), drafted.out());
        assertTrue(drafted.err().contains("prompt-lookup drafts of up to 4 tokens"), drafted.err());
    }

    @Test
    void tokenizeJsonlMatchesReferenceIdsAndDetokenizeInverts() throws Exception {
        Path vocab = Path.of("../engine-core/src/test/resources/fixtures/tokenizer/ggml-vocab-qwen3.gguf");
        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(Path.of("../engine-core/src/test/resources/fixtures/tokenizer/qwen3-cases.jsonl"));
        StringBuilder input = new StringBuilder();
        List<String> expected = new java.util.ArrayList<>();
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode c = json.readTree(line);
            input.append(json.writeValueAsString(c.get("text").asText())).append('\n');
            expected.add(json.writeValueAsString(c.get("ids")));
        }
        Result r = runWithInput(input.toString(), "tokenize", "--tokenizer", vocab.toString(), "--jsonl");
        assertEquals(0, r.code(), r.err());
        assertEquals(expected, r.out().lines().toList());
        Result back = runWithInput(r.out(), "detokenize", "--tokenizer", vocab.toString(), "--jsonl");
        assertEquals(0, back.code(), back.err());
        List<String> texts = back.out().lines().map(l -> {
            try {
                return json.readTree(l).asText();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).toList();
        List<String> originals = input.toString().lines().map(l -> {
            try {
                return java.text.Normalizer.normalize(json.readTree(l).asText(), java.text.Normalizer.Form.NFC);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).toList();
        assertEquals(originals, texts);
    }

    @Test
    void servingOnATakenPortFailsWithAMessage() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Result r = run("serve", "--model", MODELS.resolve("qwen3-dense-tiny.f32.gguf").toString(), "--ctx", "64",
                    "--port", Integer.toString(taken.getLocalPort()));
            assertEquals(1, r.code(), r.err());
            assertTrue(r.err().contains("moe4j: cannot serve on 127.0.0.1:" + taken.getLocalPort()), r.err());
            assertFalse(r.err().contains("\tat "), r.err());
        }
    }

    @Test
    void badInvocationsExplainThemselves() throws Exception {
        Result missing = run("generate", "--model", dir.resolve("nope.gguf").toString(), "--tokens", "1");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("does not exist"), missing.err());
        Result badTokens = run("logits", "--model", MODELS.resolve("qwen3-dense-tiny.f32.gguf").toString(),
                "--tokens", "1,x", "--out", dir.resolve("o").toString());
        assertEquals(2, badTokens.code());
        assertTrue(badTokens.err().contains("found 'x'"), badTokens.err());
        Path notGguf = Files.writeString(dir.resolve("text.gguf"), "hello world, not a model");
        Result corrupt = run("generate", "--model", notGguf.toString(), "--tokens", "1");
        assertEquals(1, corrupt.code());
        assertTrue(corrupt.err().contains("not a GGUF file"), corrupt.err());
        assertEquals(2, run("frobnicate").code());
    }

    @Test
    void quantizeCommandWritesLlamaQuantizesFile() throws Exception {
        Path out = dir.resolve("q.gguf");
        Result r = run("quantize", MODELS.resolve("qwen3-dense-tiny.f32.gguf").toString(), out.toString(),
                "--type", "Q4_K_M");
        assertEquals(0, r.code(), r.err());
        assertEquals(-1, Files.mismatch(MODELS.resolve("qwen3-dense-tiny.q4_k_m.gguf"), out));
        Result bad = run("quantize", MODELS.resolve("qwen3-dense-tiny.f32.gguf").toString(), out.toString(),
                "--type", "q3_k_s");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--type must be q8_0|q4_0|q4_k|q5_k|q6_k|q4_k_m|q5_k_m, was 'q3_k_s'"),
                bad.err());
    }

    private static float[] floats(Path p) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }
}
