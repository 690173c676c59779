package dev.moe4j.springai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.Engine;
import dev.moe4j.api.EngineStoppedException;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.core.env.MapPropertySource;

/** The auto-configuration in a plain application context, as Spring Boot would import it. */
class Moe4jAutoConfigurationTest {

    private static AnnotationConfigApplicationContext context(Map<String, Object> properties) {
        AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
        context.getEnvironment().getPropertySources().addFirst(new MapPropertySource("test", properties));
        context.register(Moe4jAutoConfiguration.class);
        context.refresh();
        return context;
    }

    @Test
    void modelPathGivesAnEngineAndAChatModelWithThePropertiesDefaults() {
        Engine engine;
        try (AnnotationConfigApplicationContext context = context(Map.of(
                "moe4j.model-path", Moe4jChatModelTest.MODEL.toString(),
                "moe4j.context-length", "128", "moe4j.max-sequences", "2",
                "moe4j.thinking", "off", "moe4j.temperature", "0", "moe4j.max-tokens", "5"))) {
            engine = context.getBean(Engine.class);
            assertEquals(128, engine.contextLength());
            ChatResponse r = context.getBean(ChatModel.class).call(new Prompt("Hi"));
            dev.moe4j.api.ChatResponse expected = engine.chat(dev.moe4j.api.ChatRequest.builder().user("Hi")
                    .thinking(Thinking.OFF).sampling(SamplingParams.NON_THINKING.withTemperature(0)).maxTokens(5).build());
            assertEquals(expected.content(), r.getResult().getOutput().getText());
            assertEquals(expected.usage().completionTokens(), r.getMetadata().getUsage().getCompletionTokens());
            assertEquals("qwen3-moe-tiny.q8_0.gguf", r.getMetadata().getModel());
        }
        assertThrows(EngineStoppedException.class, () -> engine.chat(dev.moe4j.api.ChatRequest.of("Hi")),
                "the context closed the engine it made");
    }

    @Test
    void withoutAModelPathNothingIsConfigured() {
        try (AnnotationConfigApplicationContext context = context(Map.of())) {
            assertEquals(0, context.getBeanNamesForType(ChatModel.class).length);
            assertEquals(0, context.getBeanNamesForType(Engine.class).length);
        }
    }

    @Test
    void springBootFindsTheAutoConfiguration() throws Exception {
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(
                "META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports")) {
            String imports = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(imports.lines().anyMatch(Moe4jAutoConfiguration.class.getName()::equals), imports);
        }
    }
}
