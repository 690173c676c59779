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

/**
 * {@code moe4j render --chat-template T.jinja|M.gguf|NAME --request R.json}: prints the exact prompt the chat
 * template makes of a request (the JSON of a chat fixture line), as UTF-8 bytes with nothing added, so other
 * programs can compare it byte for byte. The template comes from a Jinja file or a GGUF model's
 * {@code tokenizer.chat_template} (either recognised as a known template), or is named.
 */
final class RenderCommand {
    private final PrintStream out;

    RenderCommand(PrintStream out) {
        this.out = out;
    }

    int run(Args args) throws IOException {
        ChatTemplate template = template(args.require("chat-template"));
        Path requestFile = Path.of(args.require("request"));
        if (!Files.isRegularFile(requestFile)) {
            throw new Args.UsageException("--request file " + requestFile + " does not exist");
        }
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
        throw new Args.UsageException("--chat-template " + fileOrName + " is neither a file nor a template name ("
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
