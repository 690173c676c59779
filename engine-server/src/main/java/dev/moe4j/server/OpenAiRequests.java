package dev.moe4j.server;

import static dev.moe4j.server.JsonFields.check;
import static dev.moe4j.server.JsonFields.optBool;
import static dev.moe4j.server.JsonFields.optDouble;
import static dev.moe4j.server.JsonFields.optInt;
import static dev.moe4j.server.JsonFields.optLong;
import static dev.moe4j.server.JsonFields.present;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.CompletionRequest;
import dev.moe4j.api.InvalidRequestException;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import dev.moe4j.api.ToolSpec;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads OpenAI request bodies into the engine's requests. Every field the engine cannot honour is rejected with
 * 400 naming it, never ignored; fields that change nothing about generation (such as {@code user}) are ignored, as
 * the reference servers do.
 */
final class OpenAiRequests {
    /** Raw completions' default length, as OpenAI's legacy endpoint. */
    static final int COMPLETION_DEFAULT_MAX_TOKENS = 16;

    private OpenAiRequests() {}

    /** A parsed chat request and how to answer it. */
    record Chat(ChatRequest request, boolean stream, boolean includeUsage) {}

    /** A parsed completion request and how to answer it. */
    record Completion(CompletionRequest request, boolean stream, boolean includeUsage) {}

    /**
     * @param defaults the sampling the engine would choose for this request's thinking mode; fields the request
     *                 sets override it
     */
    static Chat chat(JsonNode body, String modelId, java.util.function.Function<Thinking, SamplingParams> defaults) {
        requireObject(body);
        checkModel(body, modelId);
        checkCommonUnsupported(body);
        rejectIf(body, "functions", v -> true, "deprecated function calling is not supported; use tools");
        rejectIf(body, "function_call", v -> true, "deprecated function calling is not supported; use tool_choice");
        rejectIf(body, "top_logprobs", v -> true, "log probabilities are not supported");
        rejectIf(body, "logprobs", JsonNode::asBoolean, "log probabilities are not supported");
        rejectIf(body, "response_format", v -> !(v.isObject() && "text".equals(v.path("type").asText())),
                "only {\"type\": \"text\"} is supported (no JSON mode or schema-constrained decoding)");
        rejectIf(body, "parallel_tool_calls", v -> v.isBoolean() && !v.booleanValue(),
                "false is not supported: the model may call several tools in one turn");
        rejectIf(body, "reasoning_effort", v -> true, "not supported; use chat_template_kwargs.enable_thinking and"
                + " thinking_budget");
        rejectIf(body, "audio", v -> true, "audio output is not supported");
        rejectIf(body, "modalities", v -> !(v.isArray() && v.size() == 1 && "text".equals(v.get(0).asText())),
                "only [\"text\"] is supported");
        rejectIf(body, "echo", JsonNode::asBoolean, "echoing the prompt is not supported");
        rejectIf(body, "add_generation_prompt", v -> !v.asBoolean(), "false is not supported");
        rejectIf(body, "continue_final_message", JsonNode::asBoolean, "continuing the last message is not supported");
        rejectIf(body, "chat_template", v -> true, "custom chat templates are not supported; the model's own is used");
        rejectIf(body, "documents", v -> true, "documents are not supported");

        ChatRequest.Builder builder = ChatRequest.builder();
        builder.messages(OpenAiMessages.messages(body.get("messages")));
        List<ToolSpec> tools = OpenAiMessages.tools(body.get("tools"));
        if (OpenAiMessages.toolChoiceAllowsTools(body.get("tool_choice"))) {
            tools.forEach(builder::tool);
        }

        Thinking thinking = Thinking.MODEL_DEFAULT;
        JsonNode kwargs = present(body, "chat_template_kwargs");
        Integer budget = optInt(body, "thinking_budget", -1);
        if (kwargs != null) {
            if (!kwargs.isObject()) {
                throw ApiException.invalid("chat_template_kwargs", "chat_template_kwargs must be an object");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = kwargs.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = "chat_template_kwargs." + e.getKey();
                JsonNode v = e.getValue();
                switch (e.getKey()) {
                    case "enable_thinking" -> {
                        if (v.isNull()) {
                            continue;
                        }
                        if (!v.isBoolean()) {
                            throw ApiException.invalid(name, name + " must be a boolean");
                        }
                        thinking = v.booleanValue() ? Thinking.ON : Thinking.OFF;
                    }
                    case "thinking_budget" -> {
                        if (budget == null) {
                            budget = optInt(kwargs, "thinking_budget", -1, name);
                        }
                    }
                    default -> throw ApiException.unsupported(name,
                            "the chat templates take enable_thinking and thinking_budget only");
                }
            }
        }
        builder.thinking(thinking);
        if (budget != null) {
            builder.thinkingBudget(budget);
        }

        Integer maxTokens = optInt(body, "max_completion_tokens", 1);
        if (maxTokens == null) {
            maxTokens = optInt(body, "max_tokens", 1);
        }
        if (maxTokens != null) {
            builder.maxTokens(maxTokens);
        }
        // a budget of 0 means no thinking at all, and the engine samples such a request as non-thinking
        Thinking mode = budget != null && budget == 0 ? Thinking.OFF : thinking;
        SamplingParams sampling = sampling(body, () -> defaults.apply(mode));
        if (sampling != null) {
            builder.sampling(sampling);
        }
        stop(body).forEach(builder::stop);
        Long seed = optLong(body, "seed");
        if (seed != null) {
            builder.seed(seed);
        }
        boolean stream = optBool(body, "stream");
        return new Chat(build(builder::build, "messages"), stream, includeUsage(body, stream));
    }

    static Completion completion(JsonNode body, String modelId) {
        requireObject(body);
        checkModel(body, modelId);
        checkCommonUnsupported(body);
        rejectIf(body, "logprobs", v -> !(v.isNull() || (v.isInt() && v.intValue() == 0)),
                "log probabilities are not supported");
        rejectIf(body, "echo", JsonNode::asBoolean, "echoing the prompt is not supported");
        rejectIf(body, "suffix", v -> !v.isNull(), "suffixes (fill-in-the-middle) are not supported");
        rejectIf(body, "best_of", v -> !(v.isInt() && v.intValue() == 1), "only best_of = 1 is supported");

        JsonNode p = body.get("prompt");
        String prompt;
        if (p != null && p.isTextual()) {
            prompt = p.textValue();
        } else if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            prompt = p.get(0).textValue();
        } else if (p != null && p.isArray() && p.size() > 1) {
            throw ApiException.unsupported("prompt", "one prompt per request is supported, got " + p.size());
        } else {
            throw ApiException.invalid("prompt", "prompt must be a string (token arrays are not supported)");
        }
        if (prompt.isEmpty()) {
            throw ApiException.invalid("prompt", "prompt must not be empty");
        }
        Integer maxTokens = optInt(body, "max_tokens", 1);
        SamplingParams sampling = sampling(body, () -> SamplingParams.NON_THINKING);
        List<String> stop = stop(body);
        Long seed = optLong(body, "seed");
        boolean stream = optBool(body, "stream");
        int max = maxTokens != null ? maxTokens : COMPLETION_DEFAULT_MAX_TOKENS;
        CompletionRequest request = build(() -> new CompletionRequest(prompt, sampling, max, stop, seed), "prompt");
        return new Completion(request, stream, includeUsage(body, stream));
    }

    private static <T> T build(java.util.function.Supplier<T> constructor, String param) {
        try {
            return constructor.get();
        } catch (InvalidRequestException | IllegalArgumentException e) {
            throw ApiException.invalid(param, e.getMessage());
        }
    }

    private static void requireObject(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(null, "the request body must be a JSON object");
        }
    }

    private static void checkModel(JsonNode body, String modelId) {
        JsonNode model = present(body, "model");
        if (model == null) {
            return;
        }
        if (!model.isTextual()) {
            throw ApiException.invalid("model", "model must be a string");
        }
        if (!model.textValue().equals(modelId)) {
            throw new ApiException(404, "invalid_request_error", "the model '" + model.textValue()
                    + "' does not exist; this server serves '" + modelId + "'", "model", "model_not_found", 0);
        }
    }

    private static void checkCommonUnsupported(JsonNode body) {
        JsonNode n = present(body, "n");
        if (n != null && !(n.isIntegralNumber() && n.asLong() == 1)) {
            throw ApiException.unsupported("n", "only n = 1 is supported, was " + n);
        }
        rejectIf(body, "logit_bias", v -> !(v.isObject() && v.isEmpty()), "logit biases are not supported");
        // vLLM's extensions that change what is generated: refused, so that no client believes they applied
        for (String guided : new String[] {"guided_json", "guided_regex", "guided_choice", "guided_grammar",
                "structured_outputs", "logits_processors", "prompt_logprobs"}) {
            rejectIf(body, guided, v -> true, "constrained decoding and logits processors are not supported");
        }
        rejectIf(body, "stop_token_ids", v -> !(v.isArray() && v.isEmpty()), "stop token ids are not supported;"
                + " use stop strings");
        rejectIf(body, "min_tokens", v -> !(v.isIntegralNumber() && v.asLong() == 0), "min_tokens is not supported");
        rejectIf(body, "ignore_eos", JsonNode::asBoolean, "ignore_eos is not supported");
        rejectIf(body, "include_stop_str_in_output", JsonNode::asBoolean, "stop strings are never included");
        rejectIf(body, "use_beam_search", JsonNode::asBoolean, "beam search is not supported");
    }

    private static void rejectIf(JsonNode body, String field, java.util.function.Predicate<JsonNode> bad, String why) {
        JsonNode v = present(body, field);
        if (v != null && bad.test(v)) {
            throw ApiException.unsupported(field, why);
        }
    }


    /** null when the request sets no sampling field (the engine then picks Qwen's defaults for the mode). */
    private static SamplingParams sampling(JsonNode body, java.util.function.Supplier<SamplingParams> base) {
        Double temperature = optDouble(body, "temperature");
        Double topP = optDouble(body, "top_p");
        Integer topK = optInt(body, "top_k", -1);
        Double minP = optDouble(body, "min_p");
        Double presence = optDouble(body, "presence_penalty");
        Double frequency = optDouble(body, "frequency_penalty");
        Double repetition = optDouble(body, "repetition_penalty");
        if (temperature == null && topP == null && topK == null && minP == null && presence == null
                && frequency == null && repetition == null) {
            return null;
        }
        check(temperature == null || temperature >= 0, "temperature", "temperature must be >= 0");
        check(topP == null || (topP > 0 && topP <= 1), "top_p", "top_p must be in (0, 1]");
        check(minP == null || (minP >= 0 && minP <= 1), "min_p", "min_p must be in [0, 1]");
        check(presence == null || (presence >= -2 && presence <= 2), "presence_penalty",
                "presence_penalty must be in [-2, 2]");
        check(frequency == null || (frequency >= -2 && frequency <= 2), "frequency_penalty",
                "frequency_penalty must be in [-2, 2]");
        check(repetition == null || repetition > 0, "repetition_penalty", "repetition_penalty must be > 0 (1 = off)");
        SamplingParams s = base.get();
        return new SamplingParams(
                temperature != null ? temperature : s.temperature(),
                topK != null ? Math.max(0, topK) : s.topK(), // -1 is vLLM's "no limit", the engine's 0
                topP != null ? topP : s.topP(),
                minP != null ? minP : s.minP(),
                presence != null ? presence : s.presencePenalty(),
                frequency != null ? frequency : s.frequencyPenalty(),
                repetition != null ? repetition : s.repetitionPenalty());
    }

    private static List<String> stop(JsonNode body) {
        JsonNode stop = present(body, "stop");
        List<String> out = new ArrayList<>();
        if (stop == null) {
            return out;
        }
        if (stop.isTextual()) {
            out.add(stop.textValue());
        } else if (stop.isArray()) {
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw ApiException.invalid("stop", "stop must be a string or an array of strings");
                }
                out.add(s.textValue());
            }
        } else {
            throw ApiException.invalid("stop", "stop must be a string or an array of strings");
        }
        for (String s : out) {
            check(!s.isEmpty(), "stop", "stop strings must not be empty");
        }
        return out;
    }

    private static boolean includeUsage(JsonNode body, boolean stream) {
        JsonNode options = present(body, "stream_options");
        if (options == null) {
            return false;
        }
        if (!stream) {
            throw ApiException.invalid("stream_options", "stream_options is only allowed with stream: true");
        }
        if (!options.isObject()) {
            throw ApiException.invalid("stream_options", "stream_options must be an object");
        }
        JsonNode include = present(options, "include_usage");
        if (include != null && !include.isBoolean()) {
            throw ApiException.invalid("stream_options.include_usage", "stream_options.include_usage must be a boolean");
        }
        return include != null && include.booleanValue();
    }

}
