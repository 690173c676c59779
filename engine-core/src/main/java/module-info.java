/**
 * The moe4j engine: {@code dev.moe4j.api} is the API (Engine, chat and completion requests); the other packages are
 * exported for moe4j's own modules (command line, server, benchmarks) and may change between versions.
 */
module dev.moe4j.core {
    requires transitive dev.moe4j.kernels;
    requires transitive dev.moe4j.tokenizer;
    requires transitive com.fasterxml.jackson.databind;
    requires org.slf4j;

    exports dev.moe4j.api;
    exports dev.moe4j.cache;
    exports dev.moe4j.format;
    exports dev.moe4j.format.gguf;
    exports dev.moe4j.format.safetensors;
    exports dev.moe4j.generate;
    exports dev.moe4j.generate.chat;
    exports dev.moe4j.model;
    exports dev.moe4j.model.qwen3;
    exports dev.moe4j.model.qwen35;
    exports dev.moe4j.model.qwen3moe;
    exports dev.moe4j.model.qwen3next;
    exports dev.moe4j.testing;
}
