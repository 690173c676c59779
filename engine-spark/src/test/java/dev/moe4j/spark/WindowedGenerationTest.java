package dev.moe4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.ChatHandle;
import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.Engine;
import dev.moe4j.api.FinishReason;
import dev.moe4j.api.InvalidRequestException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The window a partition streams through, on the tiny model without Spark. */
class WindowedGenerationTest {
    static Engine engine;

    @BeforeAll
    static void load() {
        engine = Engine.load(Moe4jSparkTest.MODEL, Engine.Options.defaults().withContextLength(256)
                .withMaxSequences(4));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static ChatRequest request(int i) {
        return ChatRequest.builder().user("row " + i).greedy().maxTokens(8).build();
    }

    @Test
    void keepsAtMostTheWindowInFlightAndAnswersInOrder() {
        int rows = 60;
        int window = 5;
        AtomicInteger pulled = new AtomicInteger();
        Iterator<Integer> input = IntStream.range(0, rows).peek(i -> pulled.incrementAndGet()).iterator();
        WindowedGeneration<Integer, ChatResponse> generation = new WindowedGeneration<>(input, window,
                i -> engine.chatStream(request(i), new ChatListener() {}), (i, response) -> response);
        List<ChatResponse> answers = new ArrayList<>();
        while (generation.hasNext()) {
            answers.add(generation.next());
            assertTrue(pulled.get() <= answers.size() + window,
                    pulled.get() + " rows read for " + answers.size() + " answers");
        }
        assertEquals(window, generation.maxInFlight());
        assertEquals(rows, answers.size());
        for (int i = 0; i < rows; i++) {
            ChatResponse alone = engine.chat(request(i));
            assertEquals(alone.content(), answers.get(i).content(), "row " + i);
            assertEquals(alone.usage(), answers.get(i).usage(), "row " + i);
        }
    }

    @Test
    void aFailingRowCancelsTheOthersAndClosingCancelsWhatIsLeft() throws InterruptedException {
        List<ChatHandle> started = new ArrayList<>();
        ChatRequest longRequest = ChatRequest.builder().user("long").greedy().maxTokens(200).build();
        WindowedGeneration<Integer, ChatResponse> failing = new WindowedGeneration<>(List.of(0, 1, 2, 3).iterator(),
                4, i -> {
                    if (i == 3) {
                        throw new InvalidRequestException("row 3 is bad");
                    }
                    ChatHandle h = engine.chatStream(longRequest, new ChatListener() {});
                    started.add(h);
                    return h;
                }, (i, response) -> response);
        assertEquals("row 3 is bad", assertThrows(InvalidRequestException.class, failing::hasNext).getMessage());
        for (ChatHandle h : started) {
            ChatResponse r = h.await();
            assertNotEquals(FinishReason.LENGTH, r.finishReason(), "cancelled before its 200 tokens");
        }

        WindowedGeneration<Integer, ChatResponse> abandoned = new WindowedGeneration<>(
                List.of(0, 1, 2).iterator(), 3, i -> engine.chatStream(longRequest, new ChatListener() {}),
                (i, response) -> response);
        assertTrue(abandoned.hasNext());
        abandoned.close();
        assertFalse(abandoned.hasNext(), "nothing is left once closed and the input is read");
        assertEquals(engine.kvBlocks(), awaitFreeBlocks(), "the cancelled requests gave their KV blocks back");
    }

    private static int awaitFreeBlocks() throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (engine.freeKvBlocks() < engine.kvBlocks() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return engine.freeKvBlocks();
    }
}
