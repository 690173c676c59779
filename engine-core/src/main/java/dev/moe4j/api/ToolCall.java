package dev.moe4j.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.Objects;

/**
 * A call of a tool by the model: a function name and its arguments.
 *
 * <p>The arguments are JSON. A textual node stands for arguments given as a raw string: the template inserts it
 * as is, exactly as the reference inserts a Python {@code str}. Any other node (normally an object) is serialised
 * the way the reference's {@code tojson} does. The node is copied on construction; treat it as read-only.
 */
public record ToolCall(String name, JsonNode arguments) {

    public ToolCall {
        Objects.requireNonNull(name, "name");
        arguments = arguments == null ? NullNode.getInstance() : arguments.deepCopy();
    }

    public static ToolCall of(String name, JsonNode arguments) {
        return new ToolCall(name, arguments);
    }

    /** Arguments already serialised by the caller, e.g. {@code {"city": "Paris"}}; inserted into the prompt as is. */
    public static ToolCall withRawArguments(String name, String arguments) {
        return new ToolCall(name, TextNode.valueOf(Objects.requireNonNull(arguments, "arguments")));
    }

    public boolean hasRawArguments() {
        return arguments.isTextual();
    }
}
