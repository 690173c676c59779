package dev.moe4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The real Qwen3 vocabulary fed the way the GGUF adapter will feed it: one token array padded to 151,936 rows with
 * {@code [PAD<id>]}, merges as "a b" strings, added tokens typed CONTROL (special) or USER_DEFINED.
 */
class PlainArraysTest {
    @Test
    void ggufShapedArraysGiveTheReferenceIds() throws Exception {
        JsonNode root;
        try (InputStream in = Qwen3Fixtures.open("tokenizer.json")) {
            root = new ObjectMapper().readTree(in);
        }
        String[] tokens = new String[151_936];
        for (Map.Entry<String, JsonNode> entry : root.at("/model/vocab").properties()) {
            tokens[entry.getValue().asInt()] = entry.getKey();
        }
        List<AddedToken> added = new ArrayList<>();
        for (JsonNode token : root.get("added_tokens")) {
            String content = token.get("content").asText();
            tokens[token.get("id").asInt()] = content;
            // llama.cpp's converter: CONTROL if special or <|…|>-shaped, else USER_DEFINED.
            boolean control = token.get("special").asBoolean() || (content.startsWith("<|") && content.endsWith("|>"));
            added.add(new AddedToken(token.get("id").asInt(), content, control));
        }
        for (int id = 0; id < tokens.length; id++) {
            if (tokens[id] == null) {
                tokens[id] = "[PAD" + id + "]";
            }
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode merge : root.at("/model/merges")) {
            merges.add(merge.get(0).asText() + " " + merge.get(1).asText());
        }
        root = null;

        Tokenizer tokenizer = Tokenizer.fromVocabulary(tokens, merges, added);
        assertEquals(151_936, tokenizer.vocabSize());
        List<ReferenceCasesTest.Case> cases = new ArrayList<>(ReferenceCasesTest.qwen3Cases());
        cases.addAll(ReferenceCasesTest.ggmlCases());
        for (ReferenceCasesTest.Case c : cases) {
            assertArrayEquals(c.ids(), tokenizer.encode(c.text()), ReferenceCasesTest.describe(c.text()));
        }
        assertEquals("[PAD151700]", tokenizer.decode(new int[] {151_700}), "padding rows decode as their name");
        assertEquals("", tokenizer.decode(new int[] {151_659}, true), "<|fim_prefix|> is CONTROL in GGUF");
    }
}
