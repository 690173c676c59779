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
 *
 * @param json the tool's JSON object
 */
public record ToolSpec(JsonNode json) {

    /**
     * A tool; the JSON is copied.
     *
     * @param json the tool's JSON object
     * @throws NullPointerException if {@code json} is null
     * @throws IllegalArgumentException if {@code json} is not an object
     * @throws InvalidRequestException if {@code json} is nested deeper than 1000 levels (or contains itself) or
     *     holds more than a million values
     */
    public ToolSpec {
        Objects.requireNonNull(json, "json");
        if (!json.isObject()) {
            throw new IllegalArgumentException("a tool must be a JSON object, was " + json.getNodeType());
        }
        JsonLimits.check(json, "the tool's JSON");
        json = json.deepCopy();
    }

    /**
     * A tool from its whole JSON object.
     *
     * @param json the tool's JSON object; copied
     * @return the tool
     * @throws NullPointerException if {@code json} is null
     * @throws IllegalArgumentException if {@code json} is not an object
     * @throws InvalidRequestException if {@code json} is nested deeper than 1000 levels (or contains itself) or
     *     holds more than a million values
     */
    public static ToolSpec of(JsonNode json) {
        return new ToolSpec(json);
    }

    /**
     * A function tool:
     * {@code {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}}.
     *
     * @param name        the function's name
     * @param description what it does, for the model
     * @param parameters  a JSON schema of its arguments
     * @return the tool
     * @throws NullPointerException if any argument is null
     * @throws InvalidRequestException if {@code parameters} is nested deeper than 999 levels (or contains itself)
     *     or holds about a million values
     */
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
