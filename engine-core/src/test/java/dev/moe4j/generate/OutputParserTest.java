package dev.moe4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ToolCall;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufTokenizer;
import dev.moe4j.testutil.Fixtures;
import dev.moe4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Reasoning / content / tool-call splitting on token streams a Qwen3 model produces. */
class OutputParserTest {
    static Tokenizer tokenizer;
    static OutputParser.Tags tags;

    @BeforeAll
    static void load() {
        try (GgufFile f = GgufFile.open(Fixtures.model("qwen3-dense-tiny.f32.gguf"))) {
            tokenizer = GgufTokenizer.fromMetadata(f);
        }
        tags = new OutputParser.Tags(id("<think>"), id("</think>"), id("<tool_call>"), id("</tool_call>"));
    }

    static int id(String token) {
        return tokenizer.tokenId(token).orElseThrow();
    }

    /** Records what a listener is told. */
    static final class Recorder implements ChatListener {
        final StringBuilder reasoning = new StringBuilder();
        final StringBuilder content = new StringBuilder();
        final List<ToolCall> calls = new ArrayList<>();

        @Override
        public void onReasoning(String delta) {
            reasoning.append(delta);
        }

        @Override
        public void onContent(String delta) {
            content.append(delta);
        }

        @Override
        public void onToolCall(ToolCall call) {
            calls.add(call);
        }
    }

    static OutputParser run(String output, boolean startInReasoning, Recorder recorder, List<String> stops) {
        OutputParser p = new OutputParser(tags, tokenizer.newDecoder(true), recorder, stops, startInReasoning);
        for (int id : tokenizer.encode(output, true)) {
            if (!p.accept(id)) {
                break;
            }
        }
        p.finish();
        return p;
    }

    @Test
    void hybridThinkingOutput() {
        Recorder r = new Recorder();
        OutputParser p = run("<think>\nLet me see.\nTwo lines.\n</think>\n\nThe answer.", false, r, List.of());
        assertEquals("Let me see.\nTwo lines.", p.reasoning());
        assertEquals("The answer.", p.content());
        assertEquals(p.reasoning(), r.reasoning.toString());
        assertEquals(p.content(), r.content.toString());
    }

    @Test
    void noThinkOutcomeHasAnEmptyThinkBlock() {
        Recorder r = new Recorder();
        OutputParser p = run("<think>\n\n</think>\n\nDirect answer.", false, r, List.of());
        assertEquals("", p.reasoning());
        assertEquals("Direct answer.", p.content());
    }

    @Test
    void contentWithoutThinkBlock() {
        OutputParser p = run("Just content.", false, new Recorder(), List.of());
        assertEquals("", p.reasoning());
        assertEquals("Just content.", p.content());
    }

    @Test
    void prefilledThinkOutputHoldsOnlyTheClosingTag() {
        Recorder r = new Recorder();
        OutputParser p = run("I reason here.\n</think>\n\nFinal.", true, r, List.of());
        assertEquals("I reason here.", p.reasoning());
        assertEquals("Final.", p.content());
    }

    @Test
    void truncatedReasoningStaysReasoning() {
        OutputParser p = run("<think>\nstill thinking", false, new Recorder(), List.of());
        assertEquals("still thinking", p.reasoning());
        assertEquals("", p.content());
    }

    @Test
    void toolCallsAreParsedAndMalformedOnesReported() {
        Recorder r = new Recorder();
        OutputParser p = run("Checking.\n<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"Java 25\"}}\n"
                + "</tool_call>\n<tool_call>\n{\"name\": oops}\n</tool_call>", false, r, List.of());
        assertEquals(1, p.toolCalls().size());
        assertEquals("search", p.toolCalls().get(0).name());
        assertEquals("Java 25", p.toolCalls().get(0).arguments().get("query").asText());
        assertEquals(p.toolCalls(), r.calls);
        assertEquals(1, p.malformedToolCalls().size());
        assertTrue(p.malformedToolCalls().get(0).problem().contains("not valid JSON"));
        assertFalse(p.content().contains("tool_call"));
        assertTrue(p.content().startsWith("Checking."));
    }

    @Test
    void stopStringEndsContentWithoutLeaking() {
        Recorder r = new Recorder();
        OutputParser p = run("<think>\nx\n</think>\n\nHello END world", false, r, List.of("END"));
        assertTrue(p.stopped());
        assertEquals("Hello ", r.content.toString());
        assertEquals("Hello ", p.content());
    }
}
