package dev.moe4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.moe4j.testutil.Fixtures;
import org.junit.jupiter.api.Test;

/** Engine.load on a Hugging Face directory: tokenizer.json, chat template and end tokens from its files. */
class HuggingFaceEngineTest {
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"qwen3-dense-tiny, qwen3-dense-tiny.f32",
            "qwen3-moe-tiny-sharded, qwen3-moe-tiny.f32", "qwen3-dense-half-bf16, qwen3-dense-half.bf16",
            "qwen3-dense-yarn, qwen3-dense-yarn.f32", "qwen3-next-tiny, qwen3-next-tiny.f32",
            "qwen35-tiny, qwen35-tiny.f32", "qwen35-moe-tiny, qwen35-moe-tiny.f32"})
    void tokenizerJsonEncodesThePrompt(String dir, String twin) throws Exception {
        dev.moe4j.tokenizer.Tokenizer t = dev.moe4j.tokenizer.Tokenizer.fromHuggingFace(
                Fixtures.hfDir(dir).resolve("tokenizer.json"));
        Fixtures.Ref ref = Fixtures.ref(twin);
        org.junit.jupiter.api.Assertions.assertArrayEquals(ref.promptTokens(),
                t.encode(ref.json().get("prompt_text").asText(), true));
    }

    @Test
    void directoryGivesTheSameAnswersAsItsGgufTwin() {
        ChatRequest request = ChatRequest.builder().user("Tell me about licences.").greedy().maxTokens(24).build();
        ChatResponse fromGguf;
        try (Engine gguf = Engine.load(Fixtures.model("qwen3-moe-tiny.f32.gguf"))) {
            fromGguf = gguf.chat(request);
        }
        try (Engine hf = Engine.load(Fixtures.hfDir("qwen3-moe-tiny-sharded"))) {
            assertEquals(fromGguf, hf.chat(request));
            Fixtures.Ref ref = Fixtures.ref("qwen3-moe-tiny.f32");
            assertEquals(java.util.Arrays.toString(ref.promptTokens()),
                    java.util.Arrays.toString(hf.tokenizer().encode(ref.json().get("prompt_text").asText(), true)));
        }
    }

    /** The hybrid models' directories chat as their GGUF twins do (tokenizer.json, chat template, end tokens). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"qwen3-next-tiny, qwen3-next-tiny.f32.gguf",
            "qwen35-tiny, qwen35-tiny.f32.gguf", "qwen35-moe-tiny, qwen35-moe-tiny.f32.gguf"})
    void hybridDirectoryChatsAsItsGgufTwin(String dir, String twin) {
        ChatRequest request = ChatRequest.builder().user("Tell me about licences.").thinking(Thinking.OFF).greedy()
                .maxTokens(24).build();
        ChatResponse fromGguf;
        try (Engine gguf = Engine.load(Fixtures.model(twin))) {
            fromGguf = gguf.chat(request);
        }
        try (Engine hf = Engine.load(Fixtures.hfDir(dir))) {
            ChatResponse fromHf = hf.chat(request);
            org.junit.jupiter.api.Assertions.assertTrue(fromHf.usage().completionTokens() > 1, fromHf.toString());
            assertEquals(fromGguf, fromHf);
        }
    }
}
