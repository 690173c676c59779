package dev.moe4j.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Small hand-made vocabularies: the 256 byte tokens (ids 0–255, in byte order) plus a few more. */
final class TinyVocabularies {
    private TinyVocabularies() {}

    static String[] tokens(String... extra) {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteLevel.toChar(b)));
        }
        tokens.addAll(Arrays.asList(extra));
        return tokens.toArray(String[]::new);
    }

    /** A Qwen2-style tokenizer.json over {@link #tokens}, as a tree to modify before {@link #load}. */
    static ObjectNode tokenizerJson(String[] tokens, List<String> merges) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.putArray("added_tokens");
        root.putObject("normalizer").put("type", "NFC");
        ObjectNode preTokenizer = root.putObject("pre_tokenizer").put("type", "Sequence");
        ArrayNode steps = preTokenizer.putArray("pretokenizers");
        ObjectNode split = steps.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false);
        split.putObject("pattern").put("Regex", PreTokenizer.PATTERN);
        steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false)
                .put("use_regex", false);
        root.putObject("post_processor").put("type", "ByteLevel").put("add_prefix_space", false);
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", false);
        ObjectNode model = root.putObject("model").put("type", "BPE").putNull("dropout").putNull("unk_token")
                .put("continuing_subword_prefix", "").put("end_of_word_suffix", "").put("fuse_unk", false)
                .put("byte_fallback", false).put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int id = 0; id < tokens.length; id++) {
            vocab.put(tokens[id], id);
        }
        ArrayNode mergeArray = model.putArray("merges");
        for (String merge : merges) {
            String[] pair = merge.split(" ");
            mergeArray.addArray().add(pair[0]).add(pair[1]);
        }
        return root;
    }

    static Tokenizer load(ObjectNode tokenizerJson, ObjectNode config) {
        try {
            return Tokenizer.fromHuggingFace(new ByteArrayInputStream(tokenizerJson.toString().getBytes()),
                    config == null ? null : new ByteArrayInputStream(config.toString().getBytes()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
