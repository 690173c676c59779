package dev.moe4j.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * A tool the model may call, as the whole JSON object the template lists in the system prompt, normally
 * {@code {"type": "function", "function": {"name": …, "description": …, "parameters": {JSON schema}}}}.
 * Keys keep their order, so the prompt lists them as given. The node is copied on construction; treat it as
 * read-only.
 */
public record ToolSpec(JsonNode json) {

    public ToolSpec {
        Objects.requireNonNull(json, "json");
        if (!json.isObject()) {
            throw new IllegalArgumentException("a tool must be a JSON object, was " + json.getNodeType());
        }
        json = json.deepCopy();
    }

    public static ToolSpec of(JsonNode json) {
        return new ToolSpec(json);
    }

    /** {@code {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}} */
    public static ToolSpec function(String name, String description, JsonNode parameters) {
        ObjectNode tool = JsonNodeFactory.instance.objectNode();
        tool.put("type", "function");
        ObjectNode function = tool.putObject("function");
        function.put("name", Objects.requireNonNull(name, "name"));
        function.put("description", Objects.requireNonNull(description, "description"));
        function.set("parameters", Objects.requireNonNull(parameters, "parameters"));
        return new ToolSpec(tool);
    }
}
