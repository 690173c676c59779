package dev.moe4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Exact ids against the reference implementations' outputs, case by case. */
class ReferenceCasesTest {
    private static final String GGML_SEPARATOR = "\n__ggml_vocab_test__\n";

    record Case(String text, int[] ids) {}

    /** qwen3-cases.jsonl: ids from transformers.js (Hugging Face tokenizers' port, with NFC). */
    static List<Case> qwen3Cases() throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<Case> cases = new ArrayList<>();
        for (String line : Qwen3Fixtures.read("qwen3-cases.jsonl").split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode node = json.readTree(line);
            int[] ids = new int[node.path("ids").size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = node.path("ids").get(i).asInt();
            }
            cases.add(new Case(node.path("text").asText(), ids));
        }
        return cases;
    }

    /**
     * llama.cpp's test format: each text runs up to the next "\n__ggml_vocab_test__\n" (so a text's own trailing
     * newlines are the ones before that), and .out has one line of space-separated ids per text.
     */
    static List<Case> ggmlCases() {
        String input = Qwen3Fixtures.read("ggml-vocab-qwen2.gguf.inp");
        List<String> texts = new ArrayList<>();
        int start = 0;
        for (int sep = input.indexOf(GGML_SEPARATOR); sep >= 0; sep = input.indexOf(GGML_SEPARATOR, start)) {
            texts.add(input.substring(start, sep));
            start = sep + GGML_SEPARATOR.length();
        }
        assertEquals(input.length(), start, "nothing may follow the last separator");
        String[] lines = Qwen3Fixtures.read("ggml-vocab-qwen2.gguf.out").split("\n", -1);
        assertEquals(texts.size() + 1, lines.length, "one .out line per text, then the final newline");
        assertEquals("", lines[texts.size()]);
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String line = lines[i].strip();
            int[] ids = line.isEmpty()
                    ? new int[0]
                    : Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
            cases.add(new Case(texts.get(i), ids));
        }
        return cases;
    }

    @TestFactory
    Stream<DynamicTest> qwen3CasesEncodeExactly() throws Exception {
        Tokenizer tokenizer = Qwen3Fixtures.tokenizer();
        return qwen3Cases().stream().map(c -> DynamicTest.dynamicTest(describe(c.text()),
                () -> assertArrayEquals(c.ids(), tokenizer.encode(c.text()), describe(c.text()))));
    }

    @TestFactory
    Stream<DynamicTest> ggmlVocabCasesEncodeExactly() {
        Tokenizer tokenizer = Qwen3Fixtures.tokenizer();
        return ggmlCases().stream().map(c -> DynamicTest.dynamicTest(describe(c.text()),
                () -> assertArrayEquals(c.ids(), tokenizer.encode(c.text()), describe(c.text()))));
    }

    @Test
    void caseCounts() throws Exception {
        assertEquals(77, qwen3Cases().size());
        // The fixture README says 47 texts; the file has 46 (llama.cpp's list), and 46 lines of ids.
        assertEquals(46, ggmlCases().size());
    }

    @Test
    void referenceCasesDecodeBackToNfcText() throws Exception {
        Tokenizer tokenizer = Qwen3Fixtures.tokenizer();
        List<Case> all = new ArrayList<>(qwen3Cases());
        all.addAll(ggmlCases());
        for (Case c : all) {
            assertEquals(Normalizer.normalize(c.text(), Normalizer.Form.NFC), tokenizer.decode(c.ids()),
                    describe(c.text()));
        }
    }

    static String describe(String text) {
        StringBuilder out = new StringBuilder("\"");
        text.codePoints().limit(60).forEach(cp -> {
            if (cp < 0x20 || cp == 0x7F) {
                out.append(String.format("\\x%02x", cp));
            } else {
                out.appendCodePoint(cp);
            }
        });
        return out.append(text.codePointCount(0, text.length()) > 60 ? "…\"" : "\"").toString();
    }
}
