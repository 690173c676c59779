package dev.moe4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moe4j.api.BadModelFileException;
import dev.moe4j.format.safetensors.SafetensorsCheckpoint;
import dev.moe4j.format.safetensors.SafetensorsTensor;
import dev.moe4j.kernels.Kernels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Loads a Hugging Face model directory: config.json into the {@link ModelConfig} GGUF metadata also fills, the
 * safetensors weights (one file or index + shards, mapped, used in place) through {@link SafetensorsTensorSource},
 * and generation_config.json. The weights then go through the same {@link Model#load} as a GGUF file's.
 */
final class HuggingFaceLoader {
    private HuggingFaceLoader() {}

    static Model load(Path dir, Kernels kernels) {
        if (!Files.isDirectory(dir)) {
            throw new BadModelFileException("model directory " + dir + " does not exist");
        }
        Path configFile = dir.resolve(HuggingFaceFiles.CONFIG);
        if (!Files.isRegularFile(configFile)) {
            throw new BadModelFileException(dir + ": missing " + HuggingFaceFiles.CONFIG
                    + " (a Hugging Face model directory holds config.json beside its safetensors weights)");
        }
        JsonNode configJson = JsonConfig.read(configFile);
        ModelConfig config = ConfigKeys.fromHuggingFace(configJson, configFile.toString());
        Architecture arch = Architecture.forName(config.architecture());

        Path generationFile = dir.resolve(HuggingFaceFiles.GENERATION_CONFIG);
        JsonNode generationJson = Files.isRegularFile(generationFile) ? JsonConfig.read(generationFile) : null;
        GenerationConfig generation = GenerationConfig.fromHuggingFace(generationJson, generationFile.toString(),
                configJson, configFile.toString());
        for (int eos : generation.eosTokenIds()) {
            if (eos < 0 || eos >= config.vocabSize()) {
                throw new BadModelFileException(dir + ": end token " + eos + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }

        SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir);
        try {
            SafetensorsTensorSource tensors = new SafetensorsTensorSource(checkpoint);
            checkVocabSize(checkpoint, tensors.name(TensorName.TOKEN_EMBEDDING), config, configFile);
            Weights.Model weights = Model.load(arch.huggingFaceTensors(tensors, config), config, arch);
            return new Model(config, arch, weights, kernels, checkpoint, new HuggingFaceFiles(dir, generation));
        } catch (RuntimeException | Error e) {
            checkpoint.close();
            throw e;
        }
    }

    /** config.json's vocab_size must be the embedding's row count (the shape check would say less clearly). */
    private static void checkVocabSize(SafetensorsCheckpoint checkpoint, String name, ModelConfig config,
                                       Path configFile) {
        SafetensorsTensor embedding = checkpoint.tensor(name);
        if (embedding == null) {
            throw new BadModelFileException(checkpoint.dir() + ": missing tensor '" + name + "'");
        }
        if (embedding.rank() != 2 || embedding.dim(0) != config.vocabSize()) {
            throw new BadModelFileException(configFile + ": vocab_size " + config.vocabSize() + " does not match '"
                    + name + "' of shape " + Arrays.toString(embedding.shape()));
        }
    }
}
