package dev.moe4j.generate.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.generate.chat.ChatTemplate.ThinkingMode;
import dev.moe4j.testutil.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Choosing a template: by recognising a model's embedded Jinja text, or by name. */
class ChatTemplatesTest {

    @Test
    void recognisesTheThreeFixtureTemplates() {
        assertEquals("qwen3-original", ChatTemplates.detect(ChatFixtures.jinja("A")).name());
        assertEquals("qwen3-thinking-2507", ChatTemplates.detect(ChatFixtures.jinja("B")).name());
        assertEquals("qwen3", ChatTemplates.detect(ChatFixtures.jinja("C")).name());
    }

    @Test
    void recognisesTheTemplateEmbeddedInEveryFixtureGguf() throws IOException {
        List<Path> ggufs;
        try (Stream<Path> files = Files.list(Fixtures.modelsDir())) {
            ggufs = files.filter(p -> p.toString().endsWith(".gguf")).sorted().toList();
        }
        assertTrue(!ggufs.isEmpty(), "no GGUF fixtures in " + Fixtures.modelsDir());
        for (Path gguf : ggufs) {
            try (GgufFile file = GgufFile.open(gguf)) {
                String jinja = file.metadata().getString("tokenizer.chat_template");
                assertEquals("qwen3", ChatTemplates.detect(jinja).name(), gguf.getFileName().toString());
            }
        }
    }

    @Test
    void recognitionIgnoresLineEndingsIndentationAndTrailingWhitespace() {
        String c = ChatFixtures.jinja("C");
        assertEquals("qwen3", ChatTemplates.detect(c.strip()).name());
        assertEquals("qwen3", ChatTemplates.detect(c + "\n\n  \n").name());
        assertEquals("qwen3", ChatTemplates.detect(c.replace("\n", "\r\n")).name());
        assertEquals("qwen3", ChatTemplates.detect(c.replace("\n", "   \n")).name());
        assertEquals("qwen3", ChatTemplates.detect(c.replace("\n    ", "\n\t")).name());
    }

    @Test
    void recognisesTheInstruct2507Template() {
        String b = ChatFixtures.jinja("B");
        // the Thinking-2507 template with the generation prompt of Instruct-2507 is neither: not recognised
        String hybridPrompt = b.replace("'<|im_start|>assistant\\n<think>\\n'", "'<|im_start|>assistant\\n'");
        assertThrows(UnsupportedModelException.class, () -> ChatTemplates.detect(hybridPrompt));
        ChatTemplate instruct = ChatTemplates.byName("qwen3-instruct-2507");
        assertEquals(ThinkingMode.NEVER, instruct.thinkingMode());
    }

    @Test
    void byNameKnowsEveryTemplate() {
        assertEquals(List.of("qwen3", "qwen3-original", "qwen3-thinking-2507", "qwen3-instruct-2507"), ChatTemplates.names());
        for (String name : ChatTemplates.names()) {
            assertEquals(name, ChatTemplates.byName(name).name());
        }
        assertSame(ChatTemplates.byName("qwen3"), ChatTemplates.detect(ChatFixtures.jinja("C")));
        assertEquals(ThinkingMode.HYBRID, ChatTemplates.byName("qwen3").thinkingMode());
        assertEquals(ThinkingMode.HYBRID, ChatTemplates.byName("qwen3-original").thinkingMode());
        assertEquals(ThinkingMode.ALWAYS, ChatTemplates.byName("qwen3-thinking-2507").thinkingMode());
    }

    @Test
    void anUnknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatTemplates.byName("chatml"));
        assertTrue(e.getMessage().contains("'chatml'") && e.getMessage().contains("qwen3-instruct-2507"), e.getMessage());
    }

    @Test
    void anUnknownTemplateIsRejectedWithAWayOut() {
        String llama = "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}{% endfor %}";
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> ChatTemplates.detect(llama));
        for (String name : ChatTemplates.names()) {
            assertTrue(e.getMessage().contains(name), e.getMessage());
        }
        assertTrue(e.getMessage().contains("byName") && e.getMessage().contains("--chat-template"), e.getMessage());
        // an edited Qwen3 template is not silently rendered as the original
        String edited = ChatFixtures.jinja("C").replace("<tool_response>", "<tool_result>");
        assertThrows(UnsupportedModelException.class, () -> ChatTemplates.detect(edited));
    }

    @Test
    void aMissingTemplateIsRejected() {
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> ChatTemplates.detect(null));
        assertTrue(e.getMessage().contains("no chat template"), e.getMessage());
        assertThrows(UnsupportedModelException.class, () -> ChatTemplates.detect(" \n"));
    }
}
