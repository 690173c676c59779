package dev.moe4j.model;

import dev.moe4j.api.BadModelFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The side files of a Hugging Face model directory that the weights do not cover: the generation defaults (parsed)
 * and the tokenizer files (their paths, for the tokenizer to read).
 *
 * @param dir         the model directory
 * @param generation  from generation_config.json (and config.json's token ids), or the defaults when it is absent
 */
public record HuggingFaceFiles(Path dir, GenerationConfig generation) {
    public static final String CONFIG = "config.json";
    public static final String GENERATION_CONFIG = "generation_config.json";
    public static final String TOKENIZER = "tokenizer.json";
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";

    public HuggingFaceFiles {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(generation, "generation");
    }

    public Path config() {
        return dir.resolve(CONFIG);
    }

    /** tokenizer.json (vocabulary, merges, added tokens); fails naming the file if the directory lacks it. */
    public Path tokenizer() {
        return require(TOKENIZER);
    }

    /** tokenizer_config.json (special tokens, chat template); fails naming the file if the directory lacks it. */
    public Path tokenizerConfig() {
        return require(TOKENIZER_CONFIG);
    }

    public boolean has(String fileName) {
        return Files.isRegularFile(dir.resolve(fileName));
    }

    private Path require(String fileName) {
        if (!has(fileName)) {
            throw new BadModelFileException(dir + ": missing " + fileName);
        }
        return dir.resolve(fileName);
    }
}
