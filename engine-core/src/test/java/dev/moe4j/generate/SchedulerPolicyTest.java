package dev.moe4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.CompletionRequest;
import dev.moe4j.api.FinishReason;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.cache.KvCache;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufTokenizer;
import dev.moe4j.model.Model;
import dev.moe4j.testutil.Fixtures;
import dev.moe4j.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What each step holds: decode tokens first, prompt chunks within the step budget, preempted work before new. */
class SchedulerPolicyTest {
    static Model model;
    static Tokenizer tokenizer;
    static final SamplingParams SAMPLED = new SamplingParams(1.0, 40, 1, 0, 0, 0, 1);

    record Step(long[] arrivals, int[] counts) {
        int count(long arrival) {
            int n = 0;
            for (int i = 0; i < arrivals.length; i++) {
                if (arrivals[i] == arrival) {
                    n += counts[i];
                }
            }
            return n;
        }

        int total() {
            int n = 0;
            for (int c : counts) {
                n += c;
            }
            return n;
        }
    }

    @BeforeAll
    static void load() throws Exception {
        Path path = Fixtures.model("qwen3-dense-tiny.f32.gguf");
        model = Model.loadGguf(path);
        try (GgufFile file = GgufFile.open(path)) {
            tokenizer = GgufTokenizer.fromMetadata(file);
        }
    }

    @AfterAll
    static void close() throws Exception {
        model.close();
    }

    /** Plans without end tokens, so requests run to their token limit. */
    static Prompts prompts(int context) {
        return new Prompts(tokenizer, Set.of(), context, tokenizer.vocabSize());
    }

    static String promptOf(int tokens) {
        StringBuilder s = new StringBuilder("Read");
        while (tokenizer.encode(s.toString(), true).length < tokens) {
            s.append(" sky");
        }
        return s.toString();
    }

    static Generation submit(Scheduler s, Prompts p, String prompt, int maxTokens, long seed, ChatListener l) {
        CompletionRequest r = new CompletionRequest(prompt, SAMPLED, maxTokens, List.of(), seed);
        return s.submit(d -> p.completion(r, d), l);
    }

    @Test
    void runningStreamsGetATokenEveryStepWhileALongPromptIsRead() throws Exception {
        int stepTokens = 16;
        KvCache cache = model.newKvCache(1024, 16, 4);
        Prompts prompts = prompts(1024);
        List<Step> steps = new CopyOnWriteArrayList<>();
        try (Scheduler s = new Scheduler(model, cache, 4, new Scheduler.Budget(512, stepTokens))) {
            s.observeSteps((a, c) -> steps.add(new Step(a, c)));
            CountDownLatch streaming = new CountDownLatch(3);
            ChatListener counting = new ChatListener() {
                @Override
                public void onContent(String delta) {
                    streaming.countDown();
                }
            };
            Generation a = submit(s, prompts, "A stream", 600, 1, counting);
            Generation b = submit(s, prompts, "B stream", 600, 2, new ChatListener() {});
            streaming.await();
            int promptLength = 300;
            Generation longPrompt = submit(s, prompts, promptOf(promptLength), 2, 3, new ChatListener() {});
            ChatResponse r = longPrompt.await();
            assertEquals(FinishReason.LENGTH, r.finishReason());
            a.cancel();
            b.cancel();
            a.await();
            b.await();

            int read = 0;
            int chunks = 0;
            for (Step step : steps) {
                int n = step.count(longPrompt.arrival);
                if (n == 0 || read >= r.usage().promptTokens()) {
                    continue;
                }
                read += n;
                chunks++;
                assertTrue(step.total() <= stepTokens, "a step while streams decode holds at most " + stepTokens);
                assertEquals(1, step.count(a.arrival), "stream A decodes in every step of the long prompt");
                assertEquals(1, step.count(b.arrival), "stream B decodes in every step of the long prompt");
                assertEquals(a.arrival, step.arrivals()[0], "decode tokens come first");
            }
            assertEquals(r.usage().promptTokens(), read);
            assertTrue(chunks >= (promptLength + stepTokens - 3) / (stepTokens - 2), "chunks: " + chunks);
        }
    }

    @Test
    void aPromptAloneIsReadInChunksOfTheLargeBudget() throws Exception {
        KvCache cache = model.newKvCache(1024, 16, 2);
        List<Step> steps = new CopyOnWriteArrayList<>();
        try (Scheduler s = new Scheduler(model, cache, 2, new Scheduler.Budget(128, 16))) {
            s.observeSteps((a, c) -> steps.add(new Step(a, c)));
            Generation g = submit(s, prompts(1024), promptOf(300), 2, 3, new ChatListener() {});
            int prompt = g.await().usage().promptTokens();
            List<Integer> counts = new ArrayList<>();
            for (Step step : steps) {
                counts.add(step.count(g.arrival));
            }
            // 128 + 128 + the rest, then one decode token after the first sample
            assertEquals(List.of(128, 128, prompt - 256, 1), counts);
        }
    }

    @Test
    void theLatestArrivalIsPreemptedAndResumesBeforeNewWork() throws Exception {
        // 12 blocks of 16: two sequences of ~100 positions fit, a third does not
        KvCache cache = new KvCache(model.config().numLayers(), model.config().kvDim(), 16, 12, 192);
        Prompts prompts = prompts(192);
        List<Step> steps = new CopyOnWriteArrayList<>();
        try (Scheduler s = new Scheduler(model, cache, 4, new Scheduler.Budget(512, 64))) {
            s.observeSteps((a, c) -> steps.add(new Step(a, c)));
            List<Generation> first = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                first.add(submit(s, prompts, "Stream " + i, 100, 10 + i, new ChatListener() {}));
            }
            while (s.preemptions() == 0 && !first.getLast().isDone()) {
                Thread.onSpinWait();
            }
            Generation late = submit(s, prompts, "Late", 5, 20, new ChatListener() {});
            for (Generation g : first) {
                assertEquals(FinishReason.LENGTH, g.await().finishReason());
            }
            late.await();
            assertTrue(s.preemptions() > 0, "three sequences of ~105 positions cannot share 192 slots");
            // the earliest arrival was never preempted: it fed each of its tokens exactly once
            long earliest = first.getFirst().arrival;
            int fed = 0;
            for (Step step : steps) {
                fed += step.count(earliest);
            }
            assertEquals(first.getFirst().tokenCount(), fed, "request 0 fed each of its tokens exactly once");
            // the latest of the three was preempted, and its recomputation (a run of many tokens after its first
            // decode) came no later than the late request's first step (both may be admitted in one round, the
            // preempted one first)
            long latest = first.getLast().arrival;
            int firstLate = -1;
            int recomputed = -1;
            boolean decoded = false;
            for (int i = 0; i < steps.size(); i++) {
                int n = steps.get(i).count(latest);
                if (n == 1) {
                    decoded = true;
                } else if (n > 1 && decoded && recomputed < 0) {
                    recomputed = i;
                }
                if (firstLate < 0 && steps.get(i).count(late.arrival) > 0) {
                    firstLate = i;
                }
            }
            assertTrue(recomputed >= 0, "the latest arrival was preempted and recomputed");
            assertTrue(recomputed <= firstLate, "preempted work resumes before new work: " + recomputed + " <= "
                    + firstLate);
            assertEquals(cache.pool().capacity(), cache.pool().freeBlocks());
        }
    }

    /**
     * A request whose forward pass fails (here a prompt token outside the model's vocabulary, as a tokenizer larger
     * than the model would give) fails alone: the batch is retried one generation at a time, and the others finish
     * exactly as they do alone.
     */
    @Test
    void aRequestWhoseForwardPassFailsEndsAloneAndTheSchedulerGoesOn() throws Exception {
        KvCache cache = model.newKvCache(512, 16, 4);
        Prompts prompts = prompts(512);
        try (Scheduler s = new Scheduler(model, cache, 4, new Scheduler.Budget(512, 64))) {
            ChatResponse aloneA = submit(s, prompts, "A stream", 30, 1, new ChatListener() {}).await();
            ChatResponse aloneB = submit(s, prompts, "B stream", 30, 2, new ChatListener() {}).await();
            Generation a = submit(s, prompts, "A stream", 30, 1, new ChatListener() {});
            Generation bad = s.submit(d -> {
                Generation.Plan p = prompts.completion(new CompletionRequest("Bad", SAMPLED, 30, List.of(), 3L), d);
                return new Generation.Plan(new int[] {1, 2, model.config().vocabSize() + 7}, p.sampler(), p.parser(),
                        p.endTokens(), p.maxTokens(), p.thinkingBudget(), p.budgetStopTokens());
            }, new ChatListener() {});
            Generation b = submit(s, prompts, "B stream", 30, 2, new ChatListener() {});
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    bad::await);
            assertTrue(e.getMessage().contains("outside the vocabulary"), e.getMessage());
            assertEquals(aloneA, a.await());
            assertEquals(aloneB, b.await());
            assertEquals(aloneA, submit(s, prompts, "A stream", 30, 1, new ChatListener() {}).await(),
                    "later requests still run");
            assertEquals(cache.pool().capacity(), cache.pool().freeBlocks());
        }
    }
}
