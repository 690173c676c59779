package dev.moe4j.generate.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.moe4j.generate.chat.ChatFixtures.Rendering;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every reference rendering (Jinja2 3.1.6 as Hugging Face runs it) reproduced byte for byte. */
class ChatTemplateFixturesTest {

    static List<Rendering> renderings() {
        return ChatFixtures.renderings();
    }

    static List<Rendering> hybridRenderings() {
        return ChatFixtures.renderings().stream().filter(r -> !r.template().equals("B")).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("renderings")
    void reproducesTheReferenceRendering(Rendering r) {
        // the template moe4j picks for that Jinja file, as it would for a model carrying it
        ChatTemplate template = ChatTemplates.detect(ChatFixtures.jinja(r.template()));
        assertEquals(r.expected(), RenderRequest.fromJson(r.request()).render(template));
    }

    /** Spec §5.4: for string contents the original (A) and current (C) hybrid templates render the same text. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("hybridRenderings")
    void originalAndCurrentHybridTemplatesAgree(Rendering r) {
        RenderRequest request = RenderRequest.fromJson(r.request());
        assertEquals(r.expected(), request.render(ChatTemplates.byName("qwen3")));
        assertEquals(r.expected(), request.render(ChatTemplates.byName("qwen3-original")));
    }
}
