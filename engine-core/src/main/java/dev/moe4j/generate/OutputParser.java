package dev.moe4j.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.api.ChatListener;
import dev.moe4j.api.MalformedToolCall;
import dev.moe4j.api.ToolCall;
import dev.moe4j.tokenizer.IncrementalDecoder;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits generated tokens into reasoning, content and tool calls as they arrive, and streams each to a listener.
 * Works on token ids: {@code <think>}, {@code </think>}, {@code <tool_call>} and {@code </tool_call>} are single
 * added tokens in Qwen3's vocabulary. Reasoning is trimmed of the newlines around it and content of the newlines
 * that follow {@code </think>}, as Qwen's own client does; stop strings are matched in both streams, across token
 * boundaries, and never emitted.
 */
final class OutputParser {
    private static final ObjectMapper JSON = new ObjectMapper();

    enum Channel { PREAMBLE, REASONING, CONTENT, TOOL_CALL }

    /** Token ids of the structural tags; -1 when the vocabulary lacks one. */
    record Tags(int thinkStart, int thinkEnd, int toolCallStart, int toolCallEnd) {}

    private final Tags tags;
    private final IncrementalDecoder decoder;
    private final ChatListener listener;
    private final StopMatcher reasoningStops;
    private final StopMatcher contentStops;
    private Channel channel;
    private final StringBuilder reasoning = new StringBuilder();
    private final StringBuilder content = new StringBuilder();
    private final StringBuilder toolText = new StringBuilder();
    private final List<ToolCall> toolCalls = new ArrayList<>();
    private final List<MalformedToolCall> malformed = new ArrayList<>();
    private String heldNewlines = ""; // trailing newlines of the reasoning, emitted only if more reasoning follows
    private boolean contentStarted;

    /** @param startInReasoning the prompt already opened the think block (Thinking-2507's generation prompt) */
    OutputParser(Tags tags, IncrementalDecoder decoder, ChatListener listener, List<String> stops,
                 boolean startInReasoning) {
        this.tags = tags;
        this.decoder = decoder;
        this.listener = listener;
        this.reasoningStops = new StopMatcher(stops);
        this.contentStops = new StopMatcher(stops);
        this.channel = startInReasoning ? Channel.REASONING : Channel.PREAMBLE;
    }

    Channel channel() {
        return channel;
    }

    boolean stopped() {
        return reasoningStops.stopped() || contentStops.stopped();
    }

    /** Takes one generated token. Returns false once a stop string has been seen. */
    boolean accept(int id) {
        if (channel == Channel.PREAMBLE) {
            channel = id == tags.thinkStart() ? Channel.REASONING : Channel.CONTENT;
            if (id == tags.thinkStart()) {
                return true;
            }
        }
        if (channel == Channel.REASONING && id == tags.thinkEnd()) {
            emitReasoning(decoder.flush());
            emitReasoning(reasoningStops.flush());
            heldNewlines = "";
            channel = Channel.CONTENT;
            return !stopped();
        }
        if (channel == Channel.CONTENT && id == tags.toolCallStart()) {
            emitContent(decoder.flush());
            channel = Channel.TOOL_CALL;
            toolText.setLength(0);
            return !stopped();
        }
        if (channel == Channel.TOOL_CALL && id == tags.toolCallEnd()) {
            toolText.append(decoder.flush());
            finishToolCall();
            channel = Channel.CONTENT;
            return true;
        }
        String text = decoder.next(id);
        switch (channel) {
            case REASONING -> emitReasoning(text);
            case TOOL_CALL -> toolText.append(text);
            default -> emitContent(text);
        }
        return !stopped();
    }

    /** End of generation: flushes held text (unless a stop string ended it). */
    void finish() {
        String rest = decoder.flush();
        switch (channel) {
            case REASONING -> {
                emitReasoning(rest);
                emitReasoning(reasoningStops.flush());
            }
            case TOOL_CALL -> {
                toolText.append(rest);
                malformed.add(new MalformedToolCall(toolText.toString(), "the tool call was not closed"));
            }
            default -> {
                emitContent(rest);
                emitContent(contentStops.flush());
            }
        }
    }

    private void emitReasoning(String text) {
        if (text.isEmpty() || reasoningStops.stopped()) {
            return;
        }
        String safe = reasoningStops.push(text);
        if (reasoning.isEmpty() && heldNewlines.isEmpty()) {
            safe = stripLeadingNewlines(safe);
        }
        if (safe.isEmpty()) {
            return;
        }
        int end = safe.length();
        while (end > 0 && safe.charAt(end - 1) == '\n') {
            end--;
        }
        if (end == 0) {
            heldNewlines += safe;
            return;
        }
        String out = heldNewlines + safe.substring(0, end);
        heldNewlines = safe.substring(end);
        reasoning.append(out);
        listener.onReasoning(out);
    }

    private void emitContent(String text) {
        if (text.isEmpty() || contentStops.stopped()) {
            return;
        }
        String safe = contentStops.push(text);
        if (!contentStarted) {
            safe = stripLeadingNewlines(safe);
            contentStarted = !safe.isEmpty();
        }
        if (!safe.isEmpty()) {
            content.append(safe);
            listener.onContent(safe);
        }
    }

    private static String stripLeadingNewlines(String s) {
        int i = 0;
        while (i < s.length() && s.charAt(i) == '\n') {
            i++;
        }
        return s.substring(i);
    }

    private void finishToolCall() {
        String raw = toolText.toString().strip();
        try {
            JsonNode node = JSON.readTree(raw);
            if (node == null || !node.isObject() || !node.path("name").isTextual()) {
                malformed.add(new MalformedToolCall(raw, "expected a JSON object with a string \"name\""));
                return;
            }
            JsonNode args = node.get("arguments");
            ToolCall call = new ToolCall(node.get("name").asText(), args);
            toolCalls.add(call);
            listener.onToolCall(call);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            malformed.add(new MalformedToolCall(raw, "not valid JSON: " + e.getOriginalMessage()));
        }
    }

    String reasoning() {
        return reasoning.toString();
    }

    String content() {
        return content.toString();
    }

    List<ToolCall> toolCalls() {
        return toolCalls;
    }

    List<MalformedToolCall> malformedToolCalls() {
        return malformed;
    }
}
