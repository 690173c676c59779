package dev.moe4j.cli;

import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.Engine;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import dev.moe4j.generate.chat.ChatTemplates;
import picocli.CommandLine.Option;

/** How {@code generate -p} and {@code chat} generate: thinking, length, sampling, template, context. */
final class GenerationOptions {
    @Option(names = "--think", description = "thinking on")
    boolean think;

    @Option(names = "--no-think", description = "thinking off (the template's empty think block)")
    boolean noThink;

    @Option(names = "--budget", paramLabel = "N",
            description = "reasoning tokens before the think block is closed (default: no limit)")
    Integer budget;

    @Option(names = "-n", paramLabel = "N",
            description = "tokens to generate at most (default: " + ChatRequest.DEFAULT_MAX_TOKENS + ")")
    Integer maxTokens;

    @Option(names = "--greedy", description = "always the most likely token")
    boolean greedy;

    @Option(names = "--temperature", paramLabel = "T",
            description = "sampling temperature >= 0 (default: Qwen's recommendation, 0.6 thinking, 0.7 not)")
    Double temperature;

    @Option(names = "--seed", paramLabel = "S", description = "seed of the sampler: same seed, same output")
    Long seed;

    @Option(names = "--template", paramLabel = "NAME",
            description = "a chat template by name instead of the model's own: ${COMPLETION-CANDIDATES}",
            completionCandidates = TemplateNames.class)
    String template;

    @Option(names = "--ctx", paramLabel = "N",
            description = "context length in tokens (default: the model's, capped to what the KV cache holds)")
    Integer contextLength;

    /** Rejects contradictory or out-of-range values; called before the model loads. */
    void validate() {
        if (think && noThink) {
            throw new UsageException("--think and --no-think exclude each other");
        }
        if (greedy && temperature != null) {
            throw new UsageException("--greedy and --temperature exclude each other");
        }
        if (budget != null && budget < -1) {
            throw new UsageException("--budget must be >= 0 (or -1: no limit), was " + budget);
        }
        if (maxTokens != null && maxTokens < 1) {
            throw new UsageException("-n must be >= 1, was " + maxTokens);
        }
        if (temperature != null && !(temperature >= 0 && Double.isFinite(temperature))) {
            throw new UsageException("--temperature must be a finite number >= 0, was " + temperature);
        }
        if (template != null && !ChatTemplates.names().contains(template)) {
            throw new UsageException("--template must be one of " + String.join(", ", ChatTemplates.names())
                    + ", was '" + template + "'");
        }
        if (contextLength != null && contextLength < 1) {
            throw new UsageException("--ctx must be >= 1, was " + contextLength);
        }
    }

    /** Whether any option given applies only to chat-templated generation (not to a greedy run over token ids). */
    String chatOnlyOptionGiven() {
        return think ? "--think" : noThink ? "--no-think" : budget != null ? "--budget"
                : temperature != null ? "--temperature" : seed != null ? "--seed" : template != null ? "--template"
                : contextLength != null ? "--ctx" : null;
    }

    Thinking thinking() {
        return think ? Thinking.ON : noThink ? Thinking.OFF : Thinking.MODEL_DEFAULT;
    }

    Engine.Options engineOptions() {
        Engine.Options options = Engine.Options.defaults();
        return contextLength != null ? options.withContextLength(contextLength) : options;
    }

    /** Sets length, budget, seed, sampling and template on {@code b}, for the thinking mode given. */
    ChatRequest.Builder apply(ChatRequest.Builder b, Thinking thinking) {
        b.thinking(thinking).maxTokens(maxTokens != null ? maxTokens : ChatRequest.DEFAULT_MAX_TOKENS)
                .thinkingBudget(budget != null ? budget : -1);
        if (seed != null) {
            b.seed(seed);
        }
        if (greedy) {
            b.sampling(SamplingParams.GREEDY);
        } else if (temperature != null) {
            b.sampling((thinking == Thinking.OFF ? SamplingParams.NON_THINKING : SamplingParams.THINKING)
                    .withTemperature(temperature));
        }
        if (template != null) {
            b.chatTemplate(template);
        }
        return b;
    }

    /** The known template names, for the usage text. */
    static final class TemplateNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return ChatTemplates.names().iterator();
        }
    }
}
