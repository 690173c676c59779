package dev.moe4j.format.gguf;

import dev.moe4j.api.BadModelFileException;
import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.tokenizer.AddedToken;
import dev.moe4j.tokenizer.Tokenizer;
import dev.moe4j.tokenizer.TokenizerException;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the tokenizer from GGUF tokenizer metadata ({@code tokenizer.ggml.*}): token strings, merges and token
 * types, where CONTROL tokens become special added tokens and USER_DEFINED ones non-special added tokens, as
 * llama.cpp's converter wrote them from the Hugging Face files.
 */
public final class GgufTokenizer {
    /** GGUF token types (llama.cpp's llama_token_type). */
    private static final int CONTROL = 3;
    private static final int USER_DEFINED = 4;

    private GgufTokenizer() {}

    public static Tokenizer fromMetadata(GgufFile file) {
        GgufMetadata md = file.metadata();
        String model = md.getString("tokenizer.ggml.model");
        if (!model.equals("gpt2")) {
            throw new UnsupportedModelException(file.path() + ": tokenizer model '" + model
                    + "' is not supported (Qwen3 uses byte-level BPE, 'gpt2')");
        }
        String[] tokens = md.getStringArray("tokenizer.ggml.tokens");
        List<String> merges = md.contains("tokenizer.ggml.merges")
                ? List.of(md.getStringArray("tokenizer.ggml.merges")) : List.of();
        List<AddedToken> added = new ArrayList<>();
        if (md.contains("tokenizer.ggml.token_type")) {
            int[] types = md.getIntArray("tokenizer.ggml.token_type");
            if (types.length != tokens.length) {
                throw new BadModelFileException(file.path() + ": tokenizer.ggml.token_type has " + types.length
                        + " entries for " + tokens.length + " tokens");
            }
            for (int id = 0; id < types.length; id++) {
                if (types[id] == CONTROL || types[id] == USER_DEFINED) {
                    if (tokens[id].isEmpty()) {
                        // an empty added token would match everywhere; AddedToken refuses it with an unchecked error
                        throw new BadModelFileException(file.path() + ": token " + id + " is an added token ("
                                + (types[id] == CONTROL ? "CONTROL" : "USER_DEFINED") + ") but empty");
                    }
                    added.add(new AddedToken(id, tokens[id], types[id] == CONTROL));
                }
            }
        }
        try {
            Tokenizer tokenizer = Tokenizer.fromVocabulary(tokens, merges, added);
            String template = md.getString("tokenizer.chat_template", null);
            return template == null ? tokenizer : tokenizer.withChatTemplate(template);
        } catch (TokenizerException e) {
            throw new BadModelFileException(file.path() + ": invalid tokenizer metadata: " + e.getMessage(), e);
        }
    }

    /** {@code tokenizer.ggml.eos_token_id}, or -1. */
    public static int eosTokenId(GgufFile file) {
        GgufMetadata md = file.metadata();
        return md.contains("tokenizer.ggml.eos_token_id") ? md.getInt("tokenizer.ggml.eos_token_id", 0) : -1;
    }
}
