package dev.moe4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufTokenizer;
import dev.moe4j.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code moe4j tokenize} and {@code moe4j detokenize}. With {@code --jsonl}, one JSON value per input line and one
 * per output line (a string ↔ an array of ids), so other programs can stream many texts through one process.
 */
final class TokenizeCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TokenizeCommands() {}

    /** A tokenizer.json (tokenizer_config.json beside it is used when present), or a GGUF's tokenizer metadata. */
    static Tokenizer load(String source) throws IOException {
        Path p = Path.of(source);
        if (Files.isDirectory(p)) {
            p = p.resolve("tokenizer.json");
        }
        if (!Files.isRegularFile(p)) {
            throw new Args.UsageException("tokenizer " + p + " does not exist");
        }
        if (p.getFileName().toString().endsWith(".gguf")) {
            try (GgufFile f = GgufFile.open(p)) {
                return GgufTokenizer.fromMetadata(f);
            }
        }
        return Tokenizer.fromHuggingFace(p);
    }

    static int tokenize(Args args, InputStream in, PrintStream out) throws IOException {
        Tokenizer t = load(args.require("tokenizer"));
        boolean special = !args.flag("no-special");
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        if (args.flag("jsonl")) {
            String line;
            int lineNo = 0;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = JSON.readTree(line);
                if (!node.isTextual()) {
                    throw new Args.UsageException("line " + lineNo + " of the input is not a JSON string");
                }
                out.println(JSON.writeValueAsString(t.encode(node.asText(), special)));
            }
        } else {
            String text = args.get("text");
            if (text == null) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            out.println(JSON.writeValueAsString(t.encode(text, special)));
        }
        out.flush();
        return 0;
    }

    static int detokenize(Args args, InputStream in, PrintStream out) throws IOException {
        Tokenizer t = load(args.require("tokenizer"));
        boolean skip = args.flag("skip-special");
        if (args.flag("jsonl")) {
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            int lineNo = 0;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = JSON.readTree(line);
                if (!node.isArray()) {
                    throw new Args.UsageException("line " + lineNo + " of the input is not a JSON array of ids");
                }
                out.println(JSON.writeValueAsString(t.decode(JSON.convertValue(node, int[].class), skip)));
            }
        } else {
            String ids = args.get("ids");
            if (ids == null) {
                ids = new String(in.readAllBytes(), StandardCharsets.UTF_8).replaceAll("[\\[\\]]", " ");
            }
            out.print(t.decode(Args.parseTokenList(ids), skip));
        }
        out.flush();
        return 0;
    }
}
