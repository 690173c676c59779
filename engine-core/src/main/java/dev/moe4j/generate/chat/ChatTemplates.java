package dev.moe4j.generate.chat;

import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.generate.chat.ChatTemplate.ThinkingMode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The chat templates moe4j renders natively, found by name or by recognising the Jinja text a model ships
 * ({@code tokenizer.chat_template} in a GGUF, {@code chat_template} in {@code tokenizer_config.json}).
 */
public final class ChatTemplates {

    /** Each known template and its Jinja text, a resource next to this class (spec §5.2–5.4, 5.7). */
    private record Known(ChatTemplate template, String resource) {}

    private static final List<Known> KNOWN = List.of(
            // current Qwen3 hybrid (2504 repos after Qwen's template update); fixture template C
            new Known(new Qwen3ChatTemplate("qwen3", ThinkingMode.HYBRID), "qwen3.jinja"),
            // the hybrid template as first released (e.g. Qwen3-0.6B at launch); fixture template A
            new Known(new Qwen3ChatTemplate("qwen3-original", ThinkingMode.HYBRID), "qwen3-original.jinja"),
            // Qwen3-*-Thinking-2507; fixture template B
            new Known(new Qwen3ChatTemplate("qwen3-thinking-2507", ThinkingMode.ALWAYS), "qwen3-thinking-2507.jinja"),
            // Qwen3-*-Instruct-2507: template B without the reasoning logic and the <think> pre-fill; spec §5.7
            // found no copy of it, so this text is derived from B and agrees with third-party copies of the original
            new Known(new Qwen3ChatTemplate("qwen3-instruct-2507", ThinkingMode.NEVER), "qwen3-instruct-2507.jinja"));

    private static final Map<String, ChatTemplate> BY_NAME = KNOWN.stream()
            .collect(Collectors.toUnmodifiableMap(k -> k.template().name(), Known::template));

    /** Known templates by their normalised Jinja text; read on first use. */
    private static final class ByText {
        static final Map<String, ChatTemplate> MAP = KNOWN.stream()
                .collect(Collectors.toUnmodifiableMap(k -> normalise(resource(k.resource())), Known::template));
    }

    private ChatTemplates() {}

    /** The names {@link #byName} accepts. */
    public static List<String> names() {
        return KNOWN.stream().map(k -> k.template().name()).toList();
    }

    /** @throws IllegalArgumentException for a name not in {@link #names()} */
    public static ChatTemplate byName(String name) {
        ChatTemplate template = BY_NAME.get(name);
        if (template == null) {
            throw new IllegalArgumentException("unknown chat template '" + name + "'; known: " + String.join(", ", names()));
        }
        return template;
    }

    /**
     * The template whose Jinja text this is, up to whitespace at the start and end of lines, blank lines and line
     * endings. That whitespace cannot change what these templates render: every line of theirs starts with a
     * whitespace-trimming tag (<code>&#123;%-</code> or <code>&#123;&#123;-</code>) and {@code trim_blocks} eats the
     * newline after a block.
     *
     * @throws UnsupportedModelException when the text is missing or none of {@link #names()}
     */
    public static ChatTemplate detect(String embeddedJinja) {
        if (embeddedJinja == null || embeddedJinja.isBlank()) {
            throw new UnsupportedModelException("the model carries no chat template; " + howToChoose());
        }
        ChatTemplate template = ByText.MAP.get(normalise(embeddedJinja));
        if (template == null) {
            throw new UnsupportedModelException("the model's chat template (" + embeddedJinja.length() + " characters, starting '"
                    + preview(embeddedJinja) + "') is not one moe4j renders; " + howToChoose());
        }
        return template;
    }

    private static String howToChoose() {
        return "supported templates: " + String.join(", ", names())
                + "; choose one explicitly with ChatTemplates.byName(name) (on the command line: --chat-template NAME)";
    }

    private static String preview(String jinja) {
        String flat = jinja.strip().replaceAll("\\s+", " ");
        return flat.length() <= 60 ? flat : flat.substring(0, 60) + "…";
    }

    /** Strips every line, drops blank lines, joins with {@code \n}. */
    static String normalise(String jinja) {
        return jinja.lines().map(String::strip).filter(line -> !line.isEmpty()).collect(Collectors.joining("\n"));
    }

    private static String resource(String fileName) {
        try (InputStream in = ChatTemplates.class.getResourceAsStream(fileName)) {
            if (in == null) {
                throw new IllegalStateException("resource " + fileName + " is missing next to " + ChatTemplates.class.getName());
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
