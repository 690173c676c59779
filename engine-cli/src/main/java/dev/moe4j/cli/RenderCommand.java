package dev.moe4j.cli;

import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.generate.chat.ChatTemplate;
import dev.moe4j.generate.chat.ChatTemplates;
import dev.moe4j.generate.chat.RenderRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code moe4j render --chat-template T.jinja|M.gguf|NAME --request R.json}: prints the exact prompt the chat
 * template makes of a request (the JSON of a chat fixture line), as UTF-8 bytes with nothing added, so other
 * programs can compare it byte for byte. The template comes from a Jinja file or a GGUF model's
 * {@code tokenizer.chat_template} (either recognised as a known template), or is named.
 */
@Command(name = "render", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Print the prompt a chat template makes of a request.",
        description = {"Prints the exact prompt the chat template makes of the request (messages, tools,"
                + " enable_thinking, add_generation_prompt), as UTF-8, no newline added."})
final class RenderCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--chat-template", paramLabel = "T.jinja|M.gguf|NAME", required = true,
            description = "a Jinja file, a GGUF model's template, or a known template's name")
    String chatTemplate;

    @Option(names = "--request", paramLabel = "R.json", required = true,
            description = "the request as JSON (a chat fixture line)")
    Path requestFile;

    @Override
    public Integer call() throws IOException {
        if (!Files.isRegularFile(requestFile)) {
            throw new UsageException("--request file " + requestFile + " does not exist");
        }
        ChatTemplate template = template(chatTemplate);
        PrintStream out = main.out;
        RenderRequest request;
        try {
            request = RenderRequest.parse(Files.readString(requestFile, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(requestFile + ": " + e.getMessage(), e);
        }
        out.writeBytes(request.render(template).getBytes(StandardCharsets.UTF_8));
        out.flush();
        return 0;
    }

    /** A Jinja file or a GGUF model, recognised as one of the known templates, or a template name. */
    private static ChatTemplate template(String fileOrName) throws IOException {
        Path file = Path.of(fileOrName);
        if (Files.isRegularFile(file)) {
            return ChatTemplates.detect(isGguf(file) ? ggufTemplate(file) : readUtf8(file));
        }
        if (ChatTemplates.names().contains(fileOrName)) {
            return ChatTemplates.byName(fileOrName);
        }
        throw new UsageException("--chat-template " + fileOrName + " is neither a file nor a template name ("
                + String.join(", ", ChatTemplates.names()) + ")");
    }

    private static boolean isGguf(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return Arrays.equals(in.readNBytes(4), "GGUF".getBytes(StandardCharsets.US_ASCII));
        }
    }

    /** The template the model file carries, or null when it has none. */
    private static String ggufTemplate(Path file) {
        try (GgufFile gguf = GgufFile.open(file)) {
            return gguf.metadata().getString("tokenizer.chat_template", null);
        }
    }

    private static String readUtf8(Path file) throws IOException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + " is not UTF-8 text");
        }
    }
}
