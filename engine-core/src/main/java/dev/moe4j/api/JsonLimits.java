package dev.moe4j.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * Bounds on the JSON trees callers hand to {@link ToolSpec} and {@link ToolCall}, checked without recursion before
 * anything recursive (copying, rendering) touches them. A tree built in code may be nested arbitrarily deep or
 * even contain itself; recursive code would then end in a {@link StackOverflowError}.
 */
final class JsonLimits {
    /**
     * Containers nested in one another at most: Jackson's default read limit, so whatever Jackson parses with its
     * defaults fits, as does any real JSON schema.
     */
    static final int MAX_DEPTH = 1000;
    /** Values in one tree at most, which also bounds a tree that shares one node in many places. */
    static final int MAX_NODES = 1_000_000;

    private JsonLimits() {}

    /**
     * @throws InvalidRequestException naming {@code what} when the tree is nested deeper than {@link #MAX_DEPTH}
     *     (a tree that contains itself is infinitely deep) or holds more than {@link #MAX_NODES} values
     */
    static void check(JsonNode root, String what) {
        record Frame(Iterator<JsonNode> children, int depth) {}
        ArrayDeque<Frame> stack = new ArrayDeque<>();
        long nodes = 1;
        if (root.isContainerNode()) {
            stack.push(new Frame(root.elements(), 1));
        }
        while (!stack.isEmpty()) {
            Frame frame = stack.peek();
            if (!frame.children().hasNext()) {
                stack.pop();
                continue;
            }
            JsonNode child = frame.children().next();
            if (++nodes > MAX_NODES) {
                throw new InvalidRequestException(what + " holds more than " + MAX_NODES + " JSON values");
            }
            if (child != null && child.isContainerNode()) {
                if (frame.depth() + 1 > MAX_DEPTH) {
                    throw new InvalidRequestException(what + " is nested deeper than " + MAX_DEPTH
                            + " levels, or contains itself");
                }
                stack.push(new Frame(child.elements(), frame.depth() + 1));
            }
        }
    }
}
