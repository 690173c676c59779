package dev.moe4j.api;

/** A {@code <tool_call>} block the model wrote that is not a JSON object with a string "name": reported, not thrown. */
public record MalformedToolCall(String text, String problem) {}
