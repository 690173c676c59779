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
 *
 * @param name      the function's name
 * @param arguments the arguments: a JSON object, or a textual node holding them already serialised
 */
public record ToolCall(String name, JsonNode arguments) {

    /**
     * A call; the arguments are copied, and null reads as a JSON null.
     *
     * @param name      the function's name
     * @param arguments the arguments, or null
     * @throws NullPointerException if {@code name} is null
     * @throws InvalidRequestException if the arguments are nested deeper than 1000 levels (or contain themselves)
     *     or hold more than a million values
     */
    public ToolCall {
        Objects.requireNonNull(name, "name");
        if (arguments != null) {
            JsonLimits.check(arguments, "the arguments of tool call '" + name + "'");
        }
        arguments = arguments == null ? NullNode.getInstance() : arguments.deepCopy();
    }

    /**
     * A call with JSON arguments.
     *
     * @param name      the function's name
     * @param arguments the arguments, normally an object; copied
     * @return the call
     * @throws NullPointerException if {@code name} is null
     * @throws InvalidRequestException if the arguments are nested deeper than 1000 levels (or contain themselves)
     *     or hold more than a million values
     */
    public static ToolCall of(String name, JsonNode arguments) {
        return new ToolCall(name, arguments);
    }

    /**
     * A call whose arguments the caller already serialised, e.g. {@code {"city": "Paris"}}; they are inserted into
     * the prompt as they are.
     *
     * @param name      the function's name
     * @param arguments the serialised arguments
     * @return the call
     * @throws NullPointerException if {@code name} or {@code arguments} is null
     */
    public static ToolCall withRawArguments(String name, String arguments) {
        return new ToolCall(name, TextNode.valueOf(Objects.requireNonNull(arguments, "arguments")));
    }

    /**
     * Whether the arguments are a raw string (see {@link #withRawArguments}).
     *
     * @return true when the arguments node is textual
     */
    public boolean hasRawArguments() {
        return arguments.isTextual();
    }
}
