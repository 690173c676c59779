package dev.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.Engine;
import dev.moe4j.api.FinishReason;
import dev.moe4j.api.Usage;
import dev.moe4j.bench.soak.ResponseDiff;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The soak harness on the bundled model: its checks pass, and its comparison can fail. */
class SoakCommandTest {
    private static final Path MODEL = Path.of("../models/qwen3-moe-tiny.q8_0.gguf");

    @Test
    void shortSoakPassesEveryCheck() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = new Main(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(new String[] {"soak", "--model", MODEL.toString(),
                "--clients", "8", "--seconds", "3", "--rounds", "3", "--max-sequences", "4", "--max-tokens", "12",
                "--cancel", "0.4", "--no-warmup", "--json"});
        String log = err.toString(StandardCharsets.UTF_8);
        JsonNode r = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        assertEquals(0, code, log + "\n" + r);
        assertTrue(r.get("passed").asBoolean(), r.toString());
        // the load really happened: requests completed and cancelled, each completed one replayed
        assertTrue(r.get("completed").asLong() >= 3, r.toString());
        assertTrue(r.get("cancelled").asLong() >= 1, r.toString());
        assertEquals(r.get("completed").asLong(), r.get("replayed").asLong());
        assertEquals(0, r.get("mismatches").asLong());
        assertEquals(0, r.get("leakedBlocks").asInt());
        assertEquals(3, r.get("heapMb").size());
        assertEquals(0, r.get("leftoverThreads").size(), r.toString());
        assertTrue(r.get("ttftP99Ms").asDouble() > 0, r.toString());
    }

    @Test
    void comparisonFlagsEveryDifferingComponent() throws Exception {
        try (Engine engine = Engine.load(MODEL)) {
            ChatRequest request = ChatRequest.builder().user("Hello").maxTokens(12).seed(5).build();
            ChatResponse a = engine.chat(request);
            ChatResponse again = engine.chat(request);
            assertEquals(List.of(), ResponseDiff.differences(a, again));

            ChatResponse otherContent = new ChatResponse(a.reasoning(), a.content() + "x", a.toolCalls(),
                    a.malformedToolCalls(), a.usage(), a.finishReason(), a.thinkingBudgetExhausted());
            ChatResponse otherUsage = new ChatResponse(a.reasoning(), a.content(), a.toolCalls(),
                    a.malformedToolCalls(), new Usage(a.usage().promptTokens(), a.usage().reasoningTokens(),
                    a.usage().completionTokens() + 1), a.finishReason(), a.thinkingBudgetExhausted());
            ChatResponse otherFinish = new ChatResponse(a.reasoning(), a.content(), a.toolCalls(),
                    a.malformedToolCalls(), a.usage(), a.finishReason() == FinishReason.STOP ? FinishReason.LENGTH
                    : FinishReason.STOP, a.thinkingBudgetExhausted());
            ChatResponse otherReasoning = new ChatResponse(a.reasoning() + "y", a.content(), a.toolCalls(),
                    a.malformedToolCalls(), a.usage(), a.finishReason(), a.thinkingBudgetExhausted());
            assertTrue(ResponseDiff.differences(a, otherContent).getFirst().startsWith("content:"));
            assertTrue(ResponseDiff.differences(a, otherUsage).getFirst().startsWith("usage:"));
            assertTrue(ResponseDiff.differences(a, otherFinish).getFirst().startsWith("finishReason:"));
            assertTrue(ResponseDiff.differences(a, otherReasoning).getFirst().startsWith("reasoning:"));
            // another seed under temperature sampling is another answer, and the comparison says so
            ChatResponse otherSeed = engine.chat(ChatRequest.builder().user("Hello").maxTokens(12).seed(6).build());
            assertTrue(!ResponseDiff.differences(a, otherSeed).isEmpty(), a + " vs " + otherSeed);
        }
    }
}
