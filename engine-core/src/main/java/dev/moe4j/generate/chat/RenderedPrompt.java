package dev.moe4j.generate.chat;

import java.util.Arrays;

/**
 * A rendered chat prompt: its text, and which stretches of it the caller supplied (message contents, reasoning,
 * tool calls' names and arguments, the tools' JSON) as opposed to the template's own markup
 * ({@code <|im_start|>user\n}, {@code <tool_call>}, ...). The engine tokenizes the caller's stretches as plain
 * text, so that a message cannot forge a turn with {@code <|im_end|>} or {@code <|im_start|>} written in it.
 *
 * @param text         the prompt, exactly what {@link ChatTemplate#render} returns
 * @param contentSpans the caller's stretches as start and end character offsets into {@code text}, flattened
 *                     ({@code {start0, end0, start1, end1, …}}), in order, not overlapping: the form
 *                     {@code Tokenizer.encode(String, int[])} takes
 */
public record RenderedPrompt(String text, int[] contentSpans) {

    /**
     * A prompt; the spans are copied.
     *
     * @param text         the prompt text
     * @param contentSpans the caller's stretches, flattened start/end pairs
     */
    public RenderedPrompt {
        contentSpans = contentSpans.clone();
    }

    /**
     * The caller's stretches.
     *
     * @return a copy of the flattened start/end offsets
     */
    @Override
    public int[] contentSpans() {
        return contentSpans.clone();
    }

    /**
     * The text of the caller's stretches, in order (for tests and diagnostics).
     *
     * @return each span's text
     */
    public String[] contents() {
        String[] out = new String[contentSpans.length / 2];
        for (int k = 0; k < out.length; k++) {
            out[k] = text.substring(contentSpans[2 * k], contentSpans[2 * k + 1]);
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RenderedPrompt p && text.equals(p.text) && Arrays.equals(contentSpans, p.contentSpans);
    }

    @Override
    public int hashCode() {
        return 31 * text.hashCode() + Arrays.hashCode(contentSpans);
    }

    @Override
    public String toString() {
        return "RenderedPrompt[" + text.length() + " chars, " + contentSpans.length / 2 + " content spans]";
    }

    /** Appends markup and content, recording where the content goes; adjacent contents form one span. */
    static final class Builder {
        private final StringBuilder text = new StringBuilder();
        private int[] spans = new int[16];
        private int size;

        /** Appends the template's own text. */
        Builder markup(String s) {
            text.append(s);
            return this;
        }

        /** Appends the template's own character. */
        Builder markup(char c) {
            text.append(c);
            return this;
        }

        /** Appends text the caller supplied. */
        Builder content(String s) {
            if (s.isEmpty()) {
                return this;
            }
            int start = text.length();
            text.append(s);
            if (size > 0 && spans[size - 1] == start) {
                spans[size - 1] = text.length();
                return this;
            }
            if (size + 2 > spans.length) {
                spans = Arrays.copyOf(spans, spans.length * 2);
            }
            spans[size++] = start;
            spans[size++] = text.length();
            return this;
        }

        RenderedPrompt build() {
            return new RenderedPrompt(text.toString(), Arrays.copyOf(spans, size));
        }
    }
}
