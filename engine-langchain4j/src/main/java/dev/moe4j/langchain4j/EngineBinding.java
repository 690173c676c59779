package dev.moe4j.langchain4j;

import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.moe4j.api.Engine;
import java.util.List;

/** An engine, whether the chat model owns it, and the request defaults shared by both chat model kinds. */
record EngineBinding(Engine engine, boolean owned, String modelName, RequestConversion requests,
                     ChatRequestParameters defaultParameters, List<ChatModelListener> listeners) {

    void close() {
        if (owned) {
            engine.close();
        }
    }
}
