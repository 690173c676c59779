package dev.moe4j.langchain4j;

import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.PartialThinkingContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import dev.moe4j.api.ChatHandle;
import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.ListenerException;
import dev.moe4j.api.ToolCall;
import java.util.ArrayList;
import java.util.List;

/**
 * Passes one moe4j stream to a LangChain4j handler, and is the {@link StreamingHandle} its partial callbacks carry:
 * {@link #cancel()} cancels the moe4j request, which frees its KV blocks within one step. After a cancel the handler
 * hears nothing more, as with LangChain4j's HTTP providers, whose cancel closes the stream.
 */
final class StreamRelay implements ChatListener, StreamingHandle {
    private final StreamingChatResponseHandler handler;
    private final String modelName;
    /** Ids given to tool calls as they streamed, reused in the final response. Touched on the callback thread only. */
    private final List<String> toolCallIds = new ArrayList<>();
    private ChatHandle handle;
    private boolean cancelled;

    StreamRelay(StreamingChatResponseHandler handler, String modelName) {
        this.handler = handler;
        this.modelName = modelName;
    }

    /** Called once chatStream returned; callbacks (and so a cancel) may already have run by then. */
    synchronized void started(ChatHandle handle) {
        this.handle = handle;
        if (cancelled) {
            handle.cancel();
        }
    }

    @Override
    public void cancel() {
        ChatHandle h;
        synchronized (this) {
            cancelled = true;
            h = handle;
        }
        if (h != null) {
            h.cancel();
        }
    }

    @Override
    public synchronized boolean isCancelled() {
        return cancelled;
    }

    @Override
    public void onReasoning(String delta) {
        if (!isCancelled()) {
            handler.onPartialThinking(new PartialThinking(delta), new PartialThinkingContext(this));
        }
    }

    @Override
    public void onContent(String delta) {
        if (!isCancelled()) {
            handler.onPartialResponse(new PartialResponse(delta), new PartialResponseContext(this));
        }
    }

    @Override
    public void onToolCall(ToolCall call) {
        String id = ResponseConversion.newToolCallId();
        int index = toolCallIds.size();
        toolCallIds.add(id);
        if (!isCancelled()) {
            handler.onCompleteToolCall(new CompleteToolCall(index, ResponseConversion.toolExecutionRequest(call, id)));
        }
    }

    @Override
    public void onComplete(ChatResponse response) {
        if (!isCancelled()) {
            handler.onCompleteResponse(ResponseConversion.chatResponse(response, modelName, toolCallIds));
        }
    }

    @Override
    public void onError(Throwable error) {
        if (!isCancelled()) {
            // the handler's own exception rather than moe4j's wrapper around it
            handler.onError(error instanceof ListenerException && error.getCause() != null ? error.getCause() : error);
        }
    }
}
