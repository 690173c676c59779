package dev.moe4j.bench.soak;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.CompletionRequest;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import dev.moe4j.api.ToolSpec;
import dev.moe4j.bench.ParallelBench;
import dev.moe4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One random request of the soak and how its client cancels it: a chat (system prompt from a small shared set, so
 * prefixes repeat; sometimes a tool or an earlier turn; thinking on, off or the model's default, with or without a
 * budget) or a raw completion, with random sampling settings (greedy included), stop strings, a maximum length and
 * always a seed, so that it can be replayed alone.
 *
 * @param index       the request's number in the run (its randomness derives from it and the run's seed)
 * @param chat        the chat request, or null for a completion
 * @param completion  the completion request, or null for a chat
 * @param cancel      whether and how the client cancels it
 * @param cancelAfter milliseconds after submission ({@link Cancel#AFTER_DELAY}) or streamed deltas
 *                    ({@link Cancel#AFTER_DELTAS}, from inside the listener; 0 = at once after submission)
 */
public record SoakRequest(long index, ChatRequest chat, CompletionRequest completion, Cancel cancel, int cancelAfter) {

    /** How a client cancels its request. */
    public enum Cancel {
        /** It runs to its end. */
        NONE,
        /** From the client's thread after a delay. */
        AFTER_DELAY,
        /** From the listener once a number of deltas arrived. */
        AFTER_DELTAS
    }

    /** Random requests for one model: prompts are random vocabulary text re-encoded to the chosen length. */
    public static final class Generator {
        private final Tokenizer tokenizer;
        private final long seed;
        private final double cancelFraction;
        private final int maxPromptTokens;
        private final int maxNewTokens;
        private final List<String> systemPrompts = new ArrayList<>();

        /**
         * @param tokenizer       the model's tokenizer
         * @param seed            the run's seed
         * @param cancelFraction  share of requests that their client cancels, in [0, 1]
         * @param maxPromptTokens the longest random user turn in tokens
         * @param maxNewTokens    the largest {@code maxTokens} drawn
         */
        public Generator(Tokenizer tokenizer, long seed, double cancelFraction, int maxPromptTokens,
                         int maxNewTokens) {
            this.tokenizer = tokenizer;
            this.seed = seed;
            this.cancelFraction = cancelFraction;
            this.maxPromptTokens = maxPromptTokens;
            this.maxNewTokens = maxNewTokens;
            for (int i = 0; i < 3; i++) {
                // longer than a KV block or two, so that the prefix cache has whole blocks to share
                systemPrompts.add(ParallelBench.prompt(tokenizer, 40 + 20 * i, seed * 31 + i));
            }
        }

        /** Request number {@code index}: the same index and run seed give the same request. */
        public SoakRequest next(long index) {
            Random r = new Random(seed * 1_000_003L + index);
            SamplingParams sampling = sampling(r);
            int maxTokens = r.nextInt(4) == 0 ? 1 + r.nextInt(maxNewTokens) : 1 + r.nextInt(Math.max(1, maxNewTokens / 4));
            List<String> stop = new ArrayList<>();
            for (int i = r.nextInt(3); i > 0; i--) {
                stop.add(stopString(r));
            }
            long requestSeed = r.nextLong();
            String user = ParallelBench.prompt(tokenizer, 1 + r.nextInt(maxPromptTokens), r.nextLong());
            ChatRequest chat = null;
            CompletionRequest completion = null;
            if (r.nextInt(7) == 0) {
                completion = new CompletionRequest(user, sampling, maxTokens, stop, requestSeed);
            } else {
                ChatRequest.Builder b = ChatRequest.builder();
                if (r.nextInt(4) != 0) {
                    b.system(systemPrompts.get(r.nextInt(systemPrompts.size())));
                }
                if (r.nextInt(5) == 0) {
                    b.user(ParallelBench.prompt(tokenizer, 1 + r.nextInt(16), r.nextLong()));
                    b.assistant(ParallelBench.prompt(tokenizer, 1 + r.nextInt(16), r.nextLong()));
                }
                if (r.nextInt(8) == 0) {
                    ObjectNode params = JsonNodeFactory.instance.objectNode().put("type", "object");
                    params.putObject("properties").putObject("city").put("type", "string");
                    b.tool(ToolSpec.function("get_weather", "The weather in a city", params));
                }
                Thinking[] modes = Thinking.values();
                int budget = switch (r.nextInt(4)) {
                    case 0 -> 0;
                    case 1 -> 1 + r.nextInt(24);
                    default -> -1;
                };
                chat = b.user(user).thinking(modes[r.nextInt(modes.length)]).thinkingBudget(budget)
                        .sampling(sampling).maxTokens(maxTokens).stop(stop.toArray(String[]::new)).seed(requestSeed)
                        .build();
            }
            Cancel cancel = Cancel.NONE;
            int after = 0;
            if (r.nextDouble() < cancelFraction) {
                cancel = r.nextBoolean() ? Cancel.AFTER_DELAY : Cancel.AFTER_DELTAS;
                after = cancel == Cancel.AFTER_DELAY ? r.nextInt(60) : r.nextInt(24);
            }
            return new SoakRequest(index, chat, completion, cancel, after);
        }

        private static SamplingParams sampling(Random r) {
            if (r.nextInt(4) == 0) {
                // greedy, sometimes with penalties (which still change the argmax)
                return r.nextBoolean() ? SamplingParams.GREEDY
                        : new SamplingParams(0, 0, 1, 0, r.nextDouble(), r.nextDouble(), 1 + r.nextDouble() * 0.3);
            }
            double temperature = 0.2 + r.nextDouble() * 1.3;
            int topK = r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(60);
            double topP = r.nextInt(3) == 0 ? 1 : 0.3 + r.nextDouble() * 0.7;
            double minP = r.nextInt(3) == 0 ? r.nextDouble() * 0.2 : 0;
            double presence = r.nextInt(3) == 0 ? r.nextDouble() * 2 - 1 : 0;
            double frequency = r.nextInt(3) == 0 ? r.nextDouble() * 2 - 1 : 0;
            double repetition = r.nextInt(3) == 0 ? 0.8 + r.nextDouble() * 0.5 : 1;
            return new SamplingParams(temperature, topK, topP, minP, presence, frequency, repetition);
        }

        /** The text of one random ordinary token: short enough that random output contains it now and then. */
        private String stopString(Random r) {
            for (int attempt = 0; attempt < 100; attempt++) {
                int id = r.nextInt(tokenizer.vocabSize());
                if (tokenizer.isSpecial(id)) {
                    continue;
                }
                String text = tokenizer.decode(new int[] {id}, true);
                if (!text.isBlank() && text.indexOf('\uFFFD') < 0 && !text.contains("<|")) {
                    return text;
                }
            }
            return "e";
        }
    }
}
