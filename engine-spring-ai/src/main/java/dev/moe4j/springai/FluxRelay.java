package dev.moe4j.springai;

import dev.moe4j.api.ChatHandle;
import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.ListenerException;
import dev.moe4j.api.ToolCall;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.metadata.ChatGenerationMetadata;
import org.springframework.ai.chat.model.Generation;
import reactor.core.publisher.FluxSink;

/**
 * Passes one moe4j stream into a Flux sink: a chunk per content delta (its text) and per reasoning delta (in the
 * message's {@code reasoningContent} metadata), then a last chunk with the tool calls, the finish reason and the
 * usage. Tool calls come whole in that last chunk, since moe4j parses a call only once its block is closed and a
 * caller executing tools wants them all. Cancelling the subscription cancels the moe4j request, which frees its
 * KV blocks within one step.
 */
final class FluxRelay implements ChatListener {
    private final FluxSink<org.springframework.ai.chat.model.ChatResponse> sink;
    private final String modelName;
    /** Touched on the request's callback thread only. */
    private final List<ToolCall> toolCalls = new ArrayList<>();
    private ChatHandle handle;
    private boolean cancelled;

    FluxRelay(FluxSink<org.springframework.ai.chat.model.ChatResponse> sink, String modelName) {
        this.sink = sink;
        this.modelName = modelName;
    }

    /** Called once chatStream returned; the subscriber may have cancelled before. */
    synchronized void started(ChatHandle handle) {
        this.handle = handle;
        if (cancelled) {
            handle.cancel();
        }
    }

    void cancel() {
        ChatHandle h;
        synchronized (this) {
            cancelled = true;
            h = handle;
        }
        if (h != null) {
            h.cancel();
        }
    }

    private static org.springframework.ai.chat.model.ChatResponse chunk(String content, String reasoning) {
        AssistantMessage message = AssistantMessage.builder().content(content)
                .properties(Map.of(ResponseConversion.REASONING_CONTENT, reasoning)).build();
        return new org.springframework.ai.chat.model.ChatResponse(List.of(new Generation(message, ChatGenerationMetadata.NULL)));
    }

    @Override
    public void onReasoning(String delta) {
        sink.next(chunk("", delta));
    }

    @Override
    public void onContent(String delta) {
        sink.next(chunk(delta, ""));
    }

    @Override
    public void onToolCall(ToolCall call) {
        toolCalls.add(call);
    }

    @Override
    public void onComplete(ChatResponse response) {
        List<AssistantMessage.ToolCall> calls = toolCalls.stream().map(ResponseConversion::toolCall).toList();
        AssistantMessage message = AssistantMessage.builder().content("")
                .properties(Map.of(ResponseConversion.REASONING_CONTENT, "")).toolCalls(calls).build();
        sink.next(new org.springframework.ai.chat.model.ChatResponse(
                List.of(new Generation(message, ResponseConversion.generationMetadata(response.finishReason(), !calls.isEmpty()))),
                ResponseConversion.metadata(response.usage(), modelName)));
        sink.complete();
    }

    @Override
    public void onError(Throwable error) {
        // the subscriber's own exception rather than moe4j's wrapper around it
        sink.error(error instanceof ListenerException && error.getCause() != null ? error.getCause() : error);
    }
}
