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
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

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
            throw new UsageException("tokenizer " + p + " does not exist");
        }
        if (p.getFileName().toString().endsWith(".gguf")) {
            try (GgufFile f = GgufFile.open(p)) {
                return GgufTokenizer.fromMetadata(f);
            }
        }
        return Tokenizer.fromHuggingFace(p);
    }

    /**
     * --jsonl: each non-blank line of stdin, which must be a JSON value that {@code accepts} ({@code what} names it in
     * the error), answered on its own line of stdout with {@code answer}'s result as JSON.
     */
    private static void eachJsonLine(Main main, java.util.function.Predicate<JsonNode> accepts, String what,
                                     java.util.function.Function<JsonNode, Object> answer) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(main.in, StandardCharsets.UTF_8));
        String line;
        int lineNo = 0;
        while ((line = reader.readLine()) != null) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode node = JSON.readTree(line);
            if (!accepts.test(node)) {
                throw new UsageException("line " + lineNo + " of the input is not " + what);
            }
            main.out.println(JSON.writeValueAsString(answer.apply(node)));
        }
    }

    /** {@code moe4j tokenize}: text to ids. */
    @Command(name = "tokenize", mixinStandardHelpOptions = true, sortOptions = false,
            header = "Text to token ids.",
            description = {"Ids of the text (stdin or --text) as a JSON array.",
                    "--jsonl: one JSON string per input line in, one JSON array per line out."})
    static final class Tokenize implements Callable<Integer> {
        @ParentCommand
        Main main;

        @Option(names = "--tokenizer", paramLabel = "FILE", required = true,
                description = "a tokenizer.json (or its directory) or a GGUF model")
        String tokenizer;

        @Option(names = "--jsonl", description = "JSON lines in and out")
        boolean jsonl;

        @Option(names = "--text", paramLabel = "TEXT", description = "the text (instead of stdin)")
        String text;

        @Option(names = "--no-special", description = "special-token text is encoded as plain text")
        boolean noSpecial;

        @Override
        public Integer call() throws IOException {
            if (jsonl && text != null) {
                throw new UsageException("--jsonl reads stdin; it does not take --text");
            }
            Tokenizer t = load(tokenizer);
            boolean special = !noSpecial;
            PrintStream out = main.out;
            if (jsonl) {
                eachJsonLine(main, JsonNode::isTextual, "a JSON string", node -> t.encode(node.asText(), special));
            } else {
                String input = text != null ? text : new String(main.in.readAllBytes(), StandardCharsets.UTF_8);
                out.println(JSON.writeValueAsString(t.encode(input, special)));
            }
            out.flush();
            return 0;
        }
    }

    /** {@code moe4j detokenize}: ids to text. */
    @Command(name = "detokenize", mixinStandardHelpOptions = true, sortOptions = false,
            header = "Token ids to text.",
            description = {"The reverse of tokenize: ids (stdin or --ids) to text.",
                    "--jsonl: JSON arrays in, JSON strings out."})
    static final class Detokenize implements Callable<Integer> {
        @ParentCommand
        Main main;

        @Option(names = "--tokenizer", paramLabel = "FILE", required = true,
                description = "a tokenizer.json (or its directory) or a GGUF model")
        String tokenizer;

        @Option(names = "--jsonl", description = "JSON lines in and out")
        boolean jsonl;

        @Option(names = "--ids", paramLabel = "IDS", description = "the ids, e.g. 1,2,3 (instead of stdin)")
        String ids;

        @Option(names = "--skip-special", description = "leave special tokens out of the text")
        boolean skipSpecial;

        @Override
        public Integer call() throws IOException {
            if (jsonl && ids != null) {
                throw new UsageException("--jsonl reads stdin; it does not take --ids");
            }
            Tokenizer t = load(tokenizer);
            PrintStream out = main.out;
            if (jsonl) {
                eachJsonLine(main, JsonNode::isArray, "a JSON array of ids",
                        node -> t.decode(JSON.convertValue(node, int[].class), skipSpecial));
            } else {
                int[] parsed = ids != null ? TokenIds.parse("--ids", ids)
                        : TokenIds.parse("the input", new String(main.in.readAllBytes(), StandardCharsets.UTF_8)
                                .replaceAll("[\\[\\]]", " "));
                out.print(t.decode(parsed, skipSpecial));
            }
            out.flush();
            return 0;
        }
    }
}
