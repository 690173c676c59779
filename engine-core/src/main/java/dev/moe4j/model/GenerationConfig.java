package dev.moe4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.Arrays;
import java.util.List;

/**
 * A checkpoint's generation defaults, from Hugging Face's {@code generation_config.json}: the tokens that end a
 * reply and the sampling settings the model was released with. Absent keys take the defaults of transformers'
 * {@code GenerationConfig} (greedy, temperature 1, top-k 50, top-p 1, no min-p, no repetition penalty).
 *
 * @param eosTokenIds        tokens that end generation (stop on any); empty when the checkpoint names none
 * @param bosTokenId         the begin token, or -1 (Qwen3 never prepends it)
 * @param padTokenId         the padding token, or -1
 * @param doSample           sample (true) or decode greedily (false)
 * @param minP               0 when off
 * @param repetitionPenalty  1 when off
 */
public record GenerationConfig(List<Integer> eosTokenIds, int bosTokenId, int padTokenId, boolean doSample,
                               double temperature, int topK, double topP, double minP, double repetitionPenalty) {

    /** transformers' defaults, with no end tokens: what a checkpoint without generation settings gets. */
    public static final GenerationConfig DEFAULTS = new GenerationConfig(List.of(), -1, -1, false, 1.0, 50, 1.0, 0.0, 1.0);

    public GenerationConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    public boolean isEndToken(int token) {
        return eosTokenIds.contains(token);
    }

    /**
     * Reads {@code generation_config.json} ({@code generation} is null when the file is absent); token ids it lacks
     * come from {@code config.json}, as in transformers' {@code GenerationConfig.from_model_config} (from its top
     * level, else from a multimodal checkpoint's {@code text_config}).
     */
    static GenerationConfig fromHuggingFace(JsonNode generation, String generationFile, JsonNode config,
                                            String configFile) {
        JsonConfig model = new JsonConfig(config, configFile);
        JsonConfig gen = new JsonConfig(generation != null ? generation : JsonNodeFactory.instance.objectNode(),
                generationFile);
        JsonConfig text = model.section(ConfigKeys.TEXT_CONFIG);
        int[] eos = gen.intOrInts("eos_token_id");
        if (eos.length == 0) {
            eos = model.intOrInts("eos_token_id");
        }
        if (eos.length == 0 && text != null) {
            eos = text.intOrInts("eos_token_id");
        }
        return new GenerationConfig(
                Arrays.stream(eos).distinct().boxed().toList(),
                gen.getInt("bos_token_id", model.getInt("bos_token_id",
                        text == null ? -1 : text.getInt("bos_token_id", -1))),
                gen.getInt("pad_token_id", model.getInt("pad_token_id",
                        text == null ? -1 : text.getInt("pad_token_id", -1))),
                gen.getBoolean("do_sample", DEFAULTS.doSample),
                gen.getDouble("temperature", DEFAULTS.temperature),
                gen.getInt("top_k", DEFAULTS.topK),
                gen.getDouble("top_p", DEFAULTS.topP),
                gen.getDouble("min_p", DEFAULTS.minP),
                gen.getDouble("repetition_penalty", DEFAULTS.repetitionPenalty));
    }
}
