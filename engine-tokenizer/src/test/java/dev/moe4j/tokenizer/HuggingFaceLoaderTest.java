package dev.moe4j.tokenizer;

import static dev.moe4j.tokenizer.TinyVocabularies.load;
import static dev.moe4j.tokenizer.TinyVocabularies.tokenizerJson;
import static dev.moe4j.tokenizer.TinyVocabularies.tokens;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class HuggingFaceLoaderTest {
    private static final String[] TOKENS = tokens("xy", "xyz");

    @Test
    void ignoreMergesMapsAWholePieceInTheVocabularyDirectly() {
        ObjectNode json = tokenizerJson(TOKENS, List.of("x y"));
        assertArrayEquals(new int[] {256, 'z'}, load(json, null).encode("xyz"), "merges alone never make xyz");
        ((ObjectNode) json.get("model")).put("ignore_merges", true);
        assertArrayEquals(new int[] {257}, load(json, null).encode("xyz"));
    }

    @Test
    void mergesAsStringsOrPairs() {
        ObjectNode json = tokenizerJson(TOKENS, List.of("x y"));
        ArrayNode legacy = ((ObjectNode) json.get("model")).putArray("merges");
        legacy.add("x y");
        assertArrayEquals(new int[] {256}, load(json, null).encode("xy"));
    }

    @Test
    void withoutNormalizerThereIsNoNfc() {
        ObjectNode json = tokenizerJson(TOKENS, List.of());
        assertEquals("é", load(json, null).decode(load(json, null).encode("e\u0301")));
        json.putNull("normalizer");
        assertEquals("e\u0301", load(json, null).decode(load(json, null).encode("e\u0301")));
    }

    @Test
    void configAddsTokensMarksSpecialsAndCarriesTheTemplate() {
        ObjectNode json = tokenizerJson(TOKENS, List.of());
        ((ArrayNode) json.get("added_tokens")).addObject().put("id", 258).put("content", "<a>").put("special", false)
                .put("lstrip", false).put("rstrip", false).put("normalized", false).put("single_word", false);
        ObjectNode config = JsonNodeFactory.instance.objectNode();
        config.putObject("added_tokens_decoder").putObject("259").put("content", "<b>").put("special", false);
        config.putArray("additional_special_tokens").add("<a>");
        config.putObject("eos_token").put("content", "<b>");
        config.putArray("chat_template").addObject().put("name", "default").put("template", "{{ x }}");
        Tokenizer tokenizer = load(json, config);
        assertArrayEquals(new int[] {258, 'q', 259}, tokenizer.encode("<a>q<b>"));
        assertTrue(tokenizer.isSpecial(258), "named in additional_special_tokens");
        assertTrue(tokenizer.isSpecial(259), "named as eos_token");
        assertEquals("<b>", tokenizer.eosToken().orElseThrow());
        assertEquals("{{ x }}", tokenizer.chatTemplate().orElseThrow());
        assertFalse(load(json, null).chatTemplate().isPresent());
    }

    @Test
    void unimplementedSettingsAreRefused() {
        ObjectNode otherRegex = tokenizerJson(TOKENS, List.of());
        ((ObjectNode) otherRegex.at("/pre_tokenizer/pretokenizers/0/pattern")).put("Regex", "\\s+|\\S+");
        assertRefused(otherRegex, "pre_tokenizer");

        ObjectNode lstrip = tokenizerJson(TOKENS, List.of());
        ((ArrayNode) lstrip.get("added_tokens")).addObject().put("id", 258).put("content", "<a>").put("lstrip", true);
        assertRefused(lstrip, "lstrip");

        ObjectNode wordPiece = tokenizerJson(TOKENS, List.of());
        ((ObjectNode) wordPiece.get("model")).put("type", "WordPiece");
        assertRefused(wordPiece, "model.type");

        ObjectNode byteFallback = tokenizerJson(TOKENS, List.of());
        ((ObjectNode) byteFallback.get("model")).put("byte_fallback", true);
        assertRefused(byteFallback, "byte_fallback");

        ObjectNode nfkc = tokenizerJson(TOKENS, List.of());
        nfkc.putObject("normalizer").put("type", "NFKC");
        assertRefused(nfkc, "normalizer");

        ObjectNode template = tokenizerJson(TOKENS, List.of());
        template.putObject("post_processor").put("type", "TemplateProcessing");
        assertRefused(template, "post_processor");
    }

    /** Found by fuzzing (TokenizerFuzzTest): each of these escaped as another exception or sized an allocation. */
    @Test
    void malformedIdsAndTokensAreRefusedNamingThem() {
        ObjectNode config = JsonNodeFactory.instance.objectNode();
        config.putObject("added_tokens_decoder").putObject("261$").put("content", "<b>");
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> load(tokenizerJson(TOKENS, List.of()), config));
        assertTrue(e.getMessage().contains("'261$' is not a token id"), e.getMessage());

        ObjectNode emptyContent = tokenizerJson(TOKENS, List.of());
        ((ArrayNode) emptyContent.get("added_tokens")).addObject().put("id", 258).put("content", "");
        assertRefused(emptyContent, "added token without id or content");

        // a claimed id of two billion must not allocate a two-billion-entry vocabulary
        ObjectNode hugeId = tokenizerJson(TOKENS, List.of());
        ((ObjectNode) hugeId.at("/model/vocab")).put("xyz", 2_000_000_000);
        assertRefused(hugeId, "has id 2000000000");
        ObjectNode negativeId = tokenizerJson(TOKENS, List.of());
        ((ObjectNode) negativeId.at("/model/vocab")).put("xyz", -1);
        assertRefused(negativeId, "has id -1");
        ObjectNode textId = tokenizerJson(TOKENS, List.of());
        ((ObjectNode) textId.at("/model/vocab")).put("xyz", "7");
        assertRefused(textId, "model.vocab");

        ObjectNode hugeAddedId = tokenizerJson(TOKENS, List.of());
        ((ArrayNode) hugeAddedId.get("added_tokens")).addObject().put("id", Integer.MAX_VALUE).put("content", "<a>");
        assertRefused(hugeAddedId, "has id " + Integer.MAX_VALUE);
    }

    private static void assertRefused(ObjectNode json, String named) {
        TokenizerException e = assertThrows(TokenizerException.class, () -> load(json, null));
        assertTrue(e.getMessage().contains(named), e.getMessage());
    }
}
