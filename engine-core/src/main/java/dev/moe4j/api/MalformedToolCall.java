package dev.moe4j.api;

/**
 * A {@code <tool_call>} block the model wrote that is not a JSON object with a string "name": reported, not thrown.
 *
 * @param text    the block's text between the tags, as the model wrote it
 * @param problem why it could not be read as a tool call
 */
public record MalformedToolCall(String text, String problem) {}
