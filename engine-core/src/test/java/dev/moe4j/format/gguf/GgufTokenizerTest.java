package dev.moe4j.format.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.api.BadModelFileException;
import dev.moe4j.testutil.Fixtures;
import dev.moe4j.tokenizer.Tokenizer;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The tokenizer built from GGUF metadata against the references and against the same vocabulary's tokenizer.json. */
class GgufTokenizerTest {
    static Tokenizer fullVocabulary;

    @BeforeAll
    static void loadFullVocabulary() throws Exception {
        try (GgufFile f = GgufFile.open(tokenizerFixture("ggml-vocab-qwen3.gguf"))) {
            fullVocabulary = GgufTokenizer.fromMetadata(f);
        }
    }

    static Path tokenizerFixture(String name) throws Exception {
        Path p = Path.of(GgufTokenizerTest.class.getResource("/fixtures/tokenizer/" + name).toURI());
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("missing fixture " + p);
        }
        return p;
    }

    static List<Fixtures.Ref> fixtures() {
        return Fixtures.refs();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void fixtureVocabularyEncodesItsPrompt(Fixtures.Ref ref) throws Exception {
        try (GgufFile f = GgufFile.open(ref.gguf())) {
            Tokenizer t = GgufTokenizer.fromMetadata(f);
            assertArrayEquals(ref.promptTokens(), t.encode(ref.json().get("prompt_text").asText(), true));
        }
    }

    static List<JsonNode> cases() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(tokenizerFixture("qwen3-cases.jsonl"))) {
            if (!line.isBlank()) {
                out.add(json.readTree(line));
            }
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void fullQwen3VocabularyMatchesReferenceIds(JsonNode c) {
        int[] expected = new ObjectMapper().convertValue(c.get("ids"), int[].class);
        assertArrayEquals(expected, fullVocabulary.encode(c.get("text").asText(), true), c.get("text").asText());
    }

    @Test
    void ggufAndTokenizerJsonGiveTheSameIds() throws Exception {
        Path json = Path.of("../engine-tokenizer/src/test/resources/tokenizer/tokenizer.json");
        Tokenizer fromJson = Tokenizer.fromHuggingFace(json);
        int checked = 0;
        for (JsonNode c : cases()) {
            String text = c.get("text").asText();
            assertArrayEquals(fromJson.encode(text, true), fullVocabulary.encode(text, true), text);
            assertEquals(fromJson.decode(fromJson.encode(text, true), false), fullVocabulary.decode(
                    fullVocabulary.encode(text, true), false));
            checked++;
        }
        assertEquals(cases().size(), checked);
    }

    /** An empty CONTROL token threw IllegalArgumentException; the GGUF fuzz target's corpus holds this file. */
    @Test
    void anEmptyAddedTokenIsABadModelFile() throws Exception {
        byte[] bytes;
        try (InputStream in = GgufTokenizerTest.class.getResourceAsStream("GgufFuzzTestInputs/header/empty-added-token")) {
            bytes = in.readAllBytes();
        }
        try (GgufFile f = GgufFile.parse(Path.of("empty-token.gguf"), Arena.ofConfined(),
                MemorySegment.ofArray(bytes))) {
            BadModelFileException e = assertThrows(BadModelFileException.class, () -> GgufTokenizer.fromMetadata(f));
            assertTrue(e.getMessage().contains("token 256 is an added token (CONTROL) but empty"), e.getMessage());
        }
    }
}
