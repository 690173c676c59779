package dev.moe4j.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.moe4j.api.BadModelFileException;
import dev.moe4j.api.UnsupportedModelException;
import java.util.Arrays;

/**
 * Arbitrary bytes as a Hugging Face {@code config.json} and {@code generation_config.json}, read as
 * {@link HuggingFaceLoader} reads them into a {@link ModelConfig} and a {@link GenerationConfig}. A defect is a
 * {@link BadModelFileException} or {@link UnsupportedModelException}, never another exception or a hang. Corpus:
 * {@code ConfigFuzzTestInputs/}.
 */
class ConfigFuzzTest {

    @FuzzTest(maxDuration = "2m")
    void configJson(byte[] bytes) {
        try {
            ModelConfig config = ConfigKeys.fromHuggingFace(JsonConfig.read(bytes, "config.json"), "config.json");
            assertTrue(config.vocabSize() > 0 && config.numLayers() > 0 && config.headDim() % 2 == 0, config::toString);
        } catch (BadModelFileException | UnsupportedModelException e) {
            // refused, naming the problem
        }
    }

    /** The input is generation_config.json, then a NUL byte and config.json (without a NUL: no generation file). */
    @FuzzTest(maxDuration = "2m")
    void generationConfig(byte[] bytes) {
        int nul = indexOf(bytes, (byte) 0);
        byte[] config = nul < 0 ? bytes : Arrays.copyOfRange(bytes, nul + 1, bytes.length);
        JsonNode generation = null;
        try {
            if (nul >= 0) {
                generation = JsonConfig.read(Arrays.copyOf(bytes, nul), "generation_config.json");
            }
            GenerationConfig g = GenerationConfig.fromHuggingFace(generation, "generation_config.json",
                    JsonConfig.read(config, "config.json"), "config.json");
            assertTrue(g.eosTokenIds().stream().distinct().count() == g.eosTokenIds().size(), g::toString);
        } catch (BadModelFileException | UnsupportedModelException e) {
            // refused, naming the problem
        }
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
