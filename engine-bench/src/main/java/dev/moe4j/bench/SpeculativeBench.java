package dev.moe4j.bench;

import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.Engine;
import dev.moe4j.api.Thinking;
import dev.moe4j.testing.ScriptedModel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Decode speed of a copy-heavy task with prompt-lookup drafts against without: a prompt holding a passage and
 * asking for it again, answered greedily. Decode tokens/s counts the tokens after the first over the time from the
 * first streamed token to the end; the medians of {@code runs} requests (after one that compiles the kernels) are
 * reported per engine, with the share of drafted tokens the verification accepted.
 */
public final class SpeculativeBench {

    /** A passage with recurring phrases; the scripted model says it back, token for token. */
    public static final String PASSAGE = "The river ran past the old mill, and the mill ground the corn for the town."
            + " Every morning the miller opened the gate, and the water turned the wheel, and the wheel turned the"
            + " stones. The town sent its bread down the river to the sea, and the sea sent back salt and news. When"
            + " the winter came the river froze, the wheel stood still, and the miller told stories by the fire until"
            + " the ice broke and the water ran again past the old mill.";

    /** The request: the passage, and the instruction to say it again. */
    public static ChatRequest request(int maxTokens) {
        return ChatRequest.builder().user("Repeat this passage exactly, word for word:\n\n" + PASSAGE)
                .thinking(Thinking.OFF).greedy().maxTokens(maxTokens).build();
    }

    /**
     * Writes a tiny Qwen3 model (the vocabulary and chat template of {@code vocabulary}) whose greedy answer to
     * {@link #request} is the passage, through the real forward pass.
     */
    public static void writeCopyModel(Path vocabulary, Path out) {
        ScriptedModel.write(vocabulary, out, List.of(new ScriptedModel.Script("<|im_start|>assistant\n",
                "<think>\n\n</think>\n\n" + PASSAGE + "<|im_end|>")));
    }

    /** One engine's medians: decode tokens/s, tokens per request, and drafted and accepted tokens per request. */
    public record Result(double decodeTokensPerSecond, int tokens, double drafted, double accepted) {
        /** Accepted drafted tokens over drafted ones (NaN without drafts). */
        public double acceptance() {
            return drafted == 0 ? Double.NaN : accepted / drafted;
        }
    }

    private SpeculativeBench() {}

    public static Result run(Engine engine, int maxTokens, int runs, Consumer<String> progress) {
        double[] speed = new double[runs];
        int tokens = 0;
        long drafted = 0;
        long accepted = 0;
        for (int run = -1; run < runs; run++) {
            long d0 = engine.draftedTokens();
            long a0 = engine.acceptedDraftTokens();
            long[] first = {0};
            long start = System.nanoTime();
            ChatResponse r = engine.chatStream(request(maxTokens), new ChatListener() {
                @Override
                public void onReasoning(String delta) {
                    mark();
                }

                @Override
                public void onContent(String delta) {
                    mark();
                }

                private void mark() {
                    if (first[0] == 0) {
                        first[0] = System.nanoTime();
                    }
                }
            }).await();
            long end = System.nanoTime();
            if (run < 0) {
                continue; // compiles the kernels (JIT)
            }
            tokens = r.usage().completionTokens();
            long from = first[0] == 0 ? start : first[0];
            speed[run] = (tokens - 1) / ((end - from) / 1e9);
            drafted += engine.draftedTokens() - d0;
            accepted += engine.acceptedDraftTokens() - a0;
            progress.accept(String.format("run %d/%d: %d tokens, decode %.1f tokens/s", run + 1, runs, tokens,
                    speed[run]));
        }
        Arrays.sort(speed);
        double median = runs % 2 == 1 ? speed[runs / 2] : (speed[runs / 2 - 1] + speed[runs / 2]) / 2;
        return new Result(median, tokens, (double) drafted / runs, (double) accepted / runs);
    }
}
