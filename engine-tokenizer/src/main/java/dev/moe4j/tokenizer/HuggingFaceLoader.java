package dev.moe4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads Hugging Face's {@code tokenizer.json} (+ {@code tokenizer_config.json}). Only the Qwen2 pipeline is
 * implemented, so every other setting is refused with a message naming it, rather than silently producing other
 * ids.
 */
final class HuggingFaceLoader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HuggingFaceLoader() {}

    static Tokenizer load(InputStream tokenizerJson, InputStream tokenizerConfigJson) throws IOException {
        JsonNode root = JSON.readTree(tokenizerJson);
        JsonNode config = tokenizerConfigJson == null ? null : JSON.readTree(tokenizerConfigJson);

        boolean nfc = readNormalizer(root.path("normalizer"));
        checkPreTokenizer(root.path("pre_tokenizer"));
        checkByteLevel("decoder", root.path("decoder"), true);
        checkByteLevel("post_processor", root.path("post_processor"), false);

        JsonNode model = root.path("model");
        expect(model.path("type").asText(), "BPE", "model.type");
        expect(model.path("byte_fallback").asBoolean(false), false, "model.byte_fallback");
        expect(model.path("continuing_subword_prefix").asText(""), "", "model.continuing_subword_prefix");
        expect(model.path("end_of_word_suffix").asText(""), "", "model.end_of_word_suffix");
        if (!model.path("dropout").isNull() && !model.path("dropout").isMissingNode()) {
            throw unsupported("model.dropout", model.path("dropout"));
        }
        boolean ignoreMerges = model.path("ignore_merges").asBoolean(false);

        Map<Integer, AddedToken> added = new TreeMap<>();
        for (JsonNode token : root.path("added_tokens")) {
            addToken(added, token.path("id").asInt(-1), token, "tokenizer.json added_tokens");
        }
        String chatTemplate = null;
        String eosToken = null;
        if (config != null) {
            for (Map.Entry<String, JsonNode> entry : config.path("added_tokens_decoder").properties()) {
                addToken(added, tokenId(entry.getKey()), entry.getValue(), "added_tokens_decoder");
            }
            // Tokens that transformers treats as special by naming them in the config.
            List<String> named = new ArrayList<>();
            for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
                String content = tokenContent(config.path(key));
                if (content != null) {
                    named.add(content);
                }
            }
            for (JsonNode token : config.path("additional_special_tokens")) {
                named.add(tokenContent(token));
            }
            added.replaceAll((id, token) -> named.contains(token.content()) && !token.special()
                    ? new AddedToken(id, token.content(), true)
                    : token);
            chatTemplate = readChatTemplate(config.path("chat_template"));
            eosToken = tokenContent(config.path("eos_token"));
        }

        JsonNode vocabNode = model.path("vocab");
        if (!vocabNode.isObject()) {
            throw unsupported("model.vocab (an object of token → id is expected)", vocabNode);
        }
        // tokenizer.json gives every id, the vocabulary's and the added tokens': an id past their count is a defect,
        // not a reason to allocate for it
        int maxIds = vocabNode.size() + added.size();
        int size = 0;
        for (Map.Entry<String, JsonNode> entry : vocabNode.properties()) {
            JsonNode id = entry.getValue();
            if (!id.canConvertToInt() || !id.isIntegralNumber() || id.intValue() < 0 || id.intValue() >= maxIds) {
                throw new TokenizerException("model.vocab: token " + entry.getKey() + " has id " + id
                        + ", not an integer in [0, " + maxIds + ") (the vocabulary's " + vocabNode.size()
                        + " tokens and " + added.size() + " added tokens)");
            }
            size = Math.max(size, id.intValue() + 1);
        }
        for (AddedToken token : added.values()) {
            if (token.id() >= maxIds) {
                throw new TokenizerException("added token " + token.content() + " has id " + token.id() + ", beyond the"
                        + " vocabulary's " + vocabNode.size() + " tokens and " + added.size() + " added tokens");
            }
        }
        String[] tokens = new String[size];
        for (Map.Entry<String, JsonNode> entry : vocabNode.properties()) {
            tokens[entry.getValue().intValue()] = entry.getKey();
        }

        List<String[]> merges = new ArrayList<>();
        for (JsonNode merge : model.path("merges")) {
            merges.add(readMerge(merge, merges.size()));
        }

        Vocabulary vocab = new Vocabulary(tokens, added.values());
        return new Tokenizer(vocab, new ByteLevelBpe(vocab, merges, ignoreMerges), nfc, chatTemplate, eosToken);
    }

    private static boolean readNormalizer(JsonNode normalizer) {
        if (normalizer.isNull() || normalizer.isMissingNode()) {
            return false;
        }
        if (normalizer.path("type").asText().equals("NFC")) {
            return true;
        }
        throw unsupported("normalizer", normalizer);
    }

    /** Qwen2's: Sequence[Split(Qwen2 regex, Isolated), ByteLevel(no prefix space, no regex)]. */
    private static void checkPreTokenizer(JsonNode preTokenizer) {
        JsonNode steps = preTokenizer.path("pretokenizers");
        boolean qwen2 = preTokenizer.path("type").asText().equals("Sequence") && steps.size() == 2
                && steps.get(0).path("type").asText().equals("Split")
                && steps.get(0).path("pattern").path("Regex").asText().equals(PreTokenizer.PATTERN)
                && steps.get(0).path("behavior").asText().equals("Isolated")
                && !steps.get(0).path("invert").asBoolean(false)
                && steps.get(1).path("type").asText().equals("ByteLevel")
                && !steps.get(1).path("add_prefix_space").asBoolean(false)
                && !steps.get(1).path("use_regex").asBoolean(true);
        if (!qwen2) {
            throw unsupported("pre_tokenizer (only Qwen2's regex split + ByteLevel is implemented)", preTokenizer);
        }
    }

    private static void checkByteLevel(String field, JsonNode node, boolean required) {
        if (!required && (node.isNull() || node.isMissingNode())) {
            return;
        }
        if (!node.path("type").asText().equals("ByteLevel") || node.path("add_prefix_space").asBoolean(false)) {
            throw unsupported(field, node);
        }
    }

    private static void addToken(Map<Integer, AddedToken> added, int id, JsonNode token, String source) {
        String content = token.path("content").asText(null);
        if (id < 0 || content == null || content.isEmpty()) {
            throw new TokenizerException(source + ": added token without id or content: " + token);
        }
        for (String flag : List.of("single_word", "lstrip", "rstrip", "normalized")) {
            if (token.path(flag).asBoolean(false)) {
                throw new TokenizerException(source + ": added token " + content + " has " + flag
                        + "=true, which is not implemented (Qwen's tokens all have it false)");
            }
        }
        boolean special = token.path("special").asBoolean(false);
        AddedToken existing = added.get(id);
        if (existing != null && !existing.content().equals(content)) {
            throw new TokenizerException(source + ": id " + id + " is " + content + " but elsewhere "
                    + existing.content());
        }
        added.put(id, new AddedToken(id, content, special || (existing != null && existing.special())));
    }

    /** A key of added_tokens_decoder: a token id. */
    private static int tokenId(String key) {
        try {
            return Integer.parseInt(key);
        } catch (NumberFormatException e) {
            throw new TokenizerException("added_tokens_decoder: key '" + key + "' is not a token id");
        }
    }

    /** A special token named in the config: a string, or an object with "content". */
    private static String tokenContent(JsonNode node) {
        if (node.isTextual()) {
            return node.asText();
        }
        return node.isObject() ? node.path("content").asText(null) : null;
    }

    /** A template string, or a list of named templates of which "default" is the chat one. */
    private static String readChatTemplate(JsonNode node) {
        if (node.isTextual()) {
            return node.asText();
        }
        for (JsonNode named : node) {
            if (named.path("name").asText().equals("default")) {
                return named.path("template").asText();
            }
        }
        return null;
    }

    /** A merge as a two-element array (tokenizers ≥ 0.20) or one string with a space ("Ġ t"). */
    private static String[] readMerge(JsonNode merge, int rank) {
        if (merge.isArray() && merge.size() == 2) {
            return new String[] {merge.get(0).asText(), merge.get(1).asText()};
        }
        String text = merge.asText();
        int space = text.indexOf(' ');
        if (merge.isTextual() && space > 0 && text.indexOf(' ', space + 1) < 0) {
            return new String[] {text.substring(0, space), text.substring(space + 1)};
        }
        throw new TokenizerException("merge " + rank + " is neither a pair nor 'a b': " + merge);
    }

    private static void expect(Object actual, Object expected, String field) {
        if (!expected.equals(actual)) {
            throw new TokenizerException("unsupported " + field + " = " + actual + " (only " + expected
                    + " is implemented)");
        }
    }

    private static TokenizerException unsupported(String field, JsonNode node) {
        String text = node.toString();
        return new TokenizerException("unsupported " + field + ": "
                + (text.length() > 300 ? text.substring(0, 300) + "…" : text));
    }
}
