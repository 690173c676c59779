package dev.moe4j.cli;

import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.ToolCall;
import java.io.PrintStream;

/**
 * Streams an answer to {@code out}: reasoning dimmed on a terminal (else between {@code <think>} lines), content
 * plain, tool calls as lines.
 */
final class StreamPrinter implements ChatListener {
    private static final String DIM = "\u001b[2m";
    private static final String RESET = "\u001b[0m";

    private final PrintStream out;
    private final boolean color;
    private boolean inReasoning;

    StreamPrinter(PrintStream out, boolean color) {
        this.out = out;
        this.color = color;
    }

    @Override
    public void onReasoning(String delta) {
        if (!inReasoning) {
            inReasoning = true;
            out.print(color ? DIM : "<think>\n");
        }
        out.print(delta);
        out.flush();
    }

    @Override
    public void onContent(String delta) {
        endReasoning();
        out.print(delta);
        out.flush();
    }

    @Override
    public void onToolCall(ToolCall call) {
        endReasoning();
        out.println("\n[tool call] " + call.name() + " " + call.arguments());
    }

    private void endReasoning() {
        if (inReasoning) {
            inReasoning = false;
            out.print(color ? RESET + "\n" : "\n</think>\n\n");
        }
    }

    @Override
    public void onComplete(ChatResponse response) {
        endReasoning();
        out.println();
        out.flush();
    }
}
