package dev.moe4j.generate;

import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.CompletionRequest;
import dev.moe4j.api.ContextFullException;
import dev.moe4j.api.InvalidRequestException;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.generate.chat.ChatTemplate;
import dev.moe4j.generate.chat.ChatTemplates;
import dev.moe4j.generate.chat.RenderedPrompt;
import dev.moe4j.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Turns requests into generation plans: picks the chat template, renders and tokenizes the prompt, chooses the
 * sampling defaults for the thinking mode, and prepares the thinking-budget text.
 */
public final class Prompts {
    /** Qwen's early-stop text (qwen3-spec §6.2): appended when the thinking budget is spent. */
    public static final String EARLY_STOP = "\n\nConsidering the limited time by the user, I have to give the solution"
            + " based on the thinking directly now.\n</think>\n\n";

    private final Tokenizer tokenizer;
    private final Set<Integer> endTokens;
    private final int contextLength;
    private final int sampleVocab;
    private final OutputParser.Tags tags;
    private volatile ChatTemplate embedded;

    /** @param sampleVocab ids the sampler may produce (the tokenizer's, not the output head's padded rows) */
    public Prompts(Tokenizer tokenizer, Set<Integer> endTokens, int contextLength, int sampleVocab) {
        this.tokenizer = tokenizer;
        this.endTokens = Set.copyOf(endTokens);
        this.contextLength = contextLength;
        this.sampleVocab = sampleVocab;
        this.tags = new OutputParser.Tags(id("<think>"), id("</think>"), id("<tool_call>"), id("</tool_call>"));
    }

    private int id(String token) {
        return tokenizer.tokenId(token).orElse(-1);
    }

    /** The named template, or (null) the one the model embeds. */
    public ChatTemplate template(String name) {
        if (name != null) {
            try {
                return ChatTemplates.byName(name);
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException(e.getMessage());
            }
        }
        ChatTemplate t = embedded;
        if (t == null) {
            String jinja = tokenizer.chatTemplate().orElseThrow(() -> new UnsupportedModelException(
                    "the model has no chat template; name one with ChatRequest.Builder.chatTemplate(...)"));
            t = ChatTemplates.detect(jinja);
            embedded = t;
        }
        return t;
    }

    public Generation.Plan chat(ChatRequest request, ChatListener listener) {
        ChatTemplate template = template(request.chatTemplate());
        int budget = request.thinkingBudget();
        Boolean enableThinking = switch (request.thinking()) {
            case ON -> true;
            case OFF -> false;
            case MODEL_DEFAULT -> null;
        };
        if (budget == 0 && template.thinkingMode() == ChatTemplate.ThinkingMode.HYBRID) {
            enableThinking = false; // no thinking at all: the template's empty think block
        }
        RenderedPrompt rendered = template.renderPrompt(request.messages(), request.tools(), enableThinking, true);
        String text = rendered.text();
        // the caller's text is plain unless the request says otherwise, so a message cannot forge a turn
        int[] prompt = request.allowSpecialTokensInContent() ? tokenizer.encode(text, true)
                : tokenizer.encode(text, rendered.contentSpans());
        boolean startInReasoning = text.endsWith("<think>\n");
        if (budget == 0 && startInReasoning) {
            // an always-thinking template opened the block: close it at once
            prompt = concat(prompt, tokenizer.encode("</think>\n\n", true));
            startInReasoning = false;
        }
        checkLength(prompt);
        boolean thinks = template.thinkingMode() == ChatTemplate.ThinkingMode.ALWAYS
                || (template.thinkingMode() == ChatTemplate.ThinkingMode.HYBRID && !Boolean.FALSE.equals(enableThinking));
        SamplingParams sampling = request.sampling() != null ? request.sampling()
                : thinks ? SamplingParams.THINKING : SamplingParams.NON_THINKING;
        OutputParser parser = new OutputParser(tags, tokenizer.newDecoder(true), listener, request.stop(), startInReasoning);
        return new Generation.Plan(prompt, sampler(sampling, request.seed()), parser, endTokens, request.maxTokens(),
                budget, tokenizer.encode(EARLY_STOP, true));
    }

    /** The prompt is the caller's own text, so its special tokens count (as in llama-server's and vLLM's completions). */
    public Generation.Plan completion(CompletionRequest request, ChatListener listener) {
        int[] prompt = tokenizer.encode(request.prompt(), true);
        checkLength(prompt);
        SamplingParams sampling = request.sampling() != null ? request.sampling() : SamplingParams.NON_THINKING;
        OutputParser.Tags none = new OutputParser.Tags(-1, -1, -1, -1);
        OutputParser parser = new OutputParser(none, tokenizer.newDecoder(true), listener, request.stop(), false);
        return new Generation.Plan(prompt, sampler(sampling, request.seed()), parser, endTokens, request.maxTokens(),
                -1, new int[0]);
    }

    private Sampler sampler(SamplingParams params, Long seed) {
        return new Sampler(params, sampleVocab, seed != null ? seed : ThreadLocalRandom.current().nextLong());
    }

    private void checkLength(int[] prompt) {
        if (prompt.length + 1 > contextLength) {
            throw new ContextFullException("the prompt has " + prompt.length + " tokens; the context holds "
                    + contextLength + " (with room for at least one generated token)");
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
