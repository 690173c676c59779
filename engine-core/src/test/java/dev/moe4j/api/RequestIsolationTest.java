package dev.moe4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.testutil.Fixtures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Nothing one request does reaches another: listeners that throw, block or call the engine; cancels of waiting
 * requests; a KV pool too small for everything at once. Every other request's response must equal what it gets
 * alone (same seed); the tiny dense fixture serves them all.
 */
class RequestIsolationTest {
    static Engine engine;
    /** Sampled requests with top-k (the full-vocabulary sort is slow) that run long on the random model. */
    static final SamplingParams SAMPLED = new SamplingParams(1.0, 40, 1, 0, 0, 0, 1);

    @BeforeAll
    static void load() {
        engine = Engine.load(Fixtures.model("qwen3-dense-tiny.f32.gguf"),
                Engine.Options.defaults().withContextLength(512).withMaxSequences(4));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static CompletionRequest request(int i, int maxTokens) {
        return new CompletionRequest("Request number " + i + " asks about licences and the sky.", SAMPLED, maxTokens,
                List.of(), 100L + i);
    }

    /** Bystanders run beside the given request; each must get exactly its solo response. */
    private static void bystandersUnaffected(Supplier<ChatHandle> troublemaker) {
        List<ChatResponse> alone = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            alone.add(engine.complete(request(i, 20)));
        }
        ChatHandle bad = troublemaker.get();
        List<ChatHandle> handles = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            handles.add(engine.completeStream(request(i, 20), new ChatListener() {}));
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(alone.get(i), handles.get(i).await(), "bystander " + i);
        }
        assertTrue(bad != null);
        // later requests still run, and get their solo answers
        assertEquals(alone.get(0), engine.complete(request(0, 20)));
    }

    private static Throwable thrown(String kind) {
        return kind.endsWith("Error") ? new AssertionError("listener " + kind) : new IllegalStateException("listener " + kind);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"onContentException", "onContentError", "onCompleteException", "onCompleteError"})
    void aThrowingListenerEndsOnlyItsOwnRequest(String kind) {
        Throwable boom = thrown(kind);
        AtomicReference<Throwable> onError = new AtomicReference<>();
        ChatListener listener = new ChatListener() {
            @Override
            public void onContent(String delta) {
                if (kind.startsWith("onContent")) {
                    throwIt(boom);
                }
            }

            @Override
            public void onComplete(ChatResponse response) {
                if (kind.startsWith("onComplete")) {
                    throwIt(boom);
                }
            }

            @Override
            public void onError(Throwable error) {
                onError.set(error);
            }
        };
        AtomicReference<ChatHandle> bad = new AtomicReference<>();
        bystandersUnaffected(() -> {
            bad.set(engine.completeStream(request(9, 200), listener));
            return bad.get();
        });
        ListenerException e = assertThrows(ListenerException.class, () -> bad.get().await());
        assertSame(boom, e.getCause());
        if (kind.startsWith("onContent")) {
            assertSame(e, onError.get(), "onError is told why its request ended");
        }
        assertEquals(engine.kvBlocks(), engine.freeKvBlocks());
    }

    @Test
    void aListenerWhoseOnErrorThrowsTooHarmsNobody() {
        Error boom = new StackOverflowError("listener onContent");
        AtomicReference<ChatHandle> bad = new AtomicReference<>();
        bystandersUnaffected(() -> {
            bad.set(engine.completeStream(request(9, 200), new ChatListener() {
                @Override
                public void onContent(String delta) {
                    throw boom;
                }

                @Override
                public void onError(Throwable error) {
                    throw new OutOfMemoryError("listener onError");
                }
            }));
            return bad.get();
        });
        ListenerException e = assertThrows(ListenerException.class, () -> bad.get().await());
        assertSame(boom, e.getCause());
        assertEquals(engine.kvBlocks(), engine.freeKvBlocks());
    }

    @Test
    void aBlockedListenerHoldsUpOnlyItsOwnRequest() throws Exception {
        ChatResponse aloneSlow = engine.complete(request(7, 30));
        CountDownLatch release = new CountDownLatch(1);
        List<String> seen = new ArrayList<>();
        ChatHandle slow = engine.completeStream(request(7, 30), new ChatListener() {
            @Override
            public void onContent(String delta) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                seen.add(delta);
            }
        });
        // the others run to the end while the slow one's listener is stuck in its first callback
        bystandersUnaffected(() -> slow);
        assertFalse(slow.isDone(), "the blocked request cannot have delivered its callbacks");
        release.countDown();
        ChatResponse r = slow.await();
        assertEquals(aloneSlow, r, "the slow request itself still gets its own answer");
        assertEquals(r.content(), String.join("", seen), "every delta delivered, in order");
    }

    @Test
    void aListenerMayCallTheEngine() {
        ChatResponse expectedFollowUp = engine.complete(request(5, 12));
        AtomicReference<ChatResponse> fromContent = new AtomicReference<>();
        AtomicReference<ChatResponse> fromComplete = new AtomicReference<>();
        ChatResponse first = engine.completeStream(request(4, 12), new ChatListener() {
            @Override
            public void onContent(String delta) {
                if (fromContent.get() == null) {
                    fromContent.set(engine.complete(request(5, 12)));
                }
            }

            @Override
            public void onComplete(ChatResponse response) {
                fromComplete.set(engine.complete(request(5, 12)));
            }
        }).await();
        assertEquals(engine.complete(request(4, 12)), first);
        assertEquals(expectedFollowUp, fromContent.get());
        assertEquals(expectedFollowUp, fromComplete.get());
    }

    @Test
    void cancellingAWaitingRequestCompletesItAtOnce() throws Exception {
        try (Engine one = Engine.load(Fixtures.model("qwen3-dense-tiny.f32.gguf"),
                Engine.Options.defaults().withContextLength(512).withMaxSequences(1))) {
            CountDownLatch release = new CountDownLatch(1);
            // holds the only running slot: its listener blocks, so it pauses with its work unfinished
            ChatHandle running = one.completeStream(request(1, 400), blockedUntil(release));
            List<String> streamed = new ArrayList<>();
            ChatHandle waiting = one.completeStream(request(2, 10), new ChatListener() {
                @Override
                public void onContent(String delta) {
                    streamed.add(delta);
                }
            });
            assertFalse(running.isDone());
            waiting.cancel();
            ChatResponse r = assertTimeoutPreemptively(Duration.ofSeconds(10), waiting::await,
                    "a waiting request's cancel must not wait for the running one");
            assertEquals(FinishReason.CANCELLED, r.finishReason());
            assertEquals(0, r.usage().completionTokens());
            assertTrue(streamed.isEmpty());
            assertFalse(running.isDone(), "it ended while the running request still held the slot");
            running.cancel();
            release.countDown();
            assertEquals(FinishReason.CANCELLED, running.await().finishReason());
            assertEquals(one.kvBlocks(), one.freeKvBlocks());
        }
    }

    @Test
    void closingFailsWaitingRequestsAndLaterOnesAtOnce() throws Exception {
        Engine closing = Engine.load(Fixtures.model("qwen3-dense-tiny.f32.gguf"),
                Engine.Options.defaults().withContextLength(512).withMaxSequences(1));
        CountDownLatch release = new CountDownLatch(1);
        ChatHandle running = closing.completeStream(request(1, 400), blockedUntil(release));
        while (closing.runningRequests() == 0) {
            Thread.onSpinWait(); // until the scheduler has taken it in (else it would fail as a waiting one)
        }
        ChatHandle waiting = closing.completeStream(request(2, 10), new ChatListener() {});
        closing.close();
        release.countDown();
        assertEquals(FinishReason.CANCELLED, running.await().finishReason());
        EngineStoppedException e = assertThrows(EngineStoppedException.class, waiting::await);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        EngineStoppedException later = assertThrows(EngineStoppedException.class,
                () -> closing.completeStream(request(3, 10), new ChatListener() {}));
        assertTrue(later.getMessage().contains("closed"), later.getMessage());
    }

    /**
     * A pool of 64 blocks of 16 tokens for 8 sequences that each grow to about 500 positions: at most two fit at
     * once, so running sequences are preempted and recomputed many times. None may be truncated or changed.
     */
    @Test
    void aPoolTooSmallForAllPreemptsAndRecomputesWithoutChangingAnything() throws Exception {
        StringBuilder prompt = new StringBuilder("Request");
        while (engine.tokenizer().encode(prompt + " 0:", true).length < 200) {
            prompt.append(" sky");
        }
        List<CompletionRequest> requests = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            requests.add(new CompletionRequest(prompt + " " + i + ":", SAMPLED, 300, List.of(), 500L + i));
        }
        List<ChatResponse> alone = new ArrayList<>();
        for (CompletionRequest r : requests) {
            alone.add(engine.complete(r));
        }
        int promptTokens = alone.getFirst().usage().promptTokens();
        assertTrue(promptTokens >= 200 && promptTokens <= 203, "prompt of about 200 tokens: " + promptTokens);
        try (Engine small = Engine.load(Fixtures.model("qwen3-dense-tiny.f32.gguf"), Engine.Options.defaults()
                .withContextLength(1024).withMaxSequences(8).withKvCacheBlocks(64))) {
            assertEquals(64, small.kvBlocks());
            List<ChatHandle> handles = new ArrayList<>();
            for (CompletionRequest r : requests) {
                handles.add(small.completeStream(r, new ChatListener() {}));
            }
            for (int i = 0; i < handles.size(); i++) {
                ChatResponse got = handles.get(i).await();
                assertNotEquals(FinishReason.CONTEXT_FULL, got.finishReason(), "request " + i);
                assertEquals(alone.get(i), got, "request " + i);
            }
            assertTrue(small.preemptions() > 0, "the pool was too small: preemption must have happened");
            assertEquals(small.kvBlocks(), small.freeKvBlocks(), "every block back in the pool");
            assertEquals(0, small.queuedRequests());
        }
        long generated = alone.stream().mapToLong(r -> r.usage().completionTokens()).sum();
        assertTrue(generated > 8 * 250, "the requests ran long (no early end): " + generated);
    }

    @Test
    void contextFullOnlyAtTheSequencesOwnLength() {
        // a KV budget smaller than the context caps the context, so one sequence always fits alone
        try (Engine capped = Engine.load(Fixtures.model("qwen3-dense-tiny.f32.gguf"), Engine.Options.defaults()
                .withContextLength(4096).withKvCacheBlocks(20))) {
            assertEquals(320, capped.contextLength());
            ChatResponse r = capped.complete(request(1, 1000));
            assertEquals(FinishReason.CONTEXT_FULL, r.finishReason());
            // every fed token holds a position; the last sampled one needs none
            assertEquals(321, r.usage().promptTokens() + r.usage().completionTokens(), r.usage().toString());
        }
    }

    @Test
    void waitingRequestsDoNotHangWhenCancelledInBulk() throws Exception {
        List<ChatHandle> handles = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            handles.add(engine.completeStream(request(i, 50), new ChatListener() {}));
        }
        for (int i = 0; i < handles.size(); i += 2) {
            handles.get(i).cancel();
        }
        for (int i = 0; i < handles.size(); i++) {
            ChatHandle h = handles.get(i);
            ChatResponse r = assertTimeoutPreemptively(Duration.ofSeconds(60), h::await);
            if (i % 2 == 0) {
                assertEquals(FinishReason.CANCELLED, r.finishReason());
            } else {
                assertEquals(engine.complete(request(i, 50)), r);
            }
        }
        assertEquals(engine.kvBlocks(), engine.freeKvBlocks());
    }

    /** A listener whose every text callback waits for {@code release}. */
    private static ChatListener blockedUntil(CountDownLatch release) {
        return new ChatListener() {
            @Override
            public void onContent(String delta) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }

    private static void throwIt(Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        throw (RuntimeException) t;
    }
}
