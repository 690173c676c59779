package dev.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** How the command line treats its options: help, version, unknown options, bad values caught before any load. */
class CliOptionsTest {
    /** Every subcommand the usage promises (docs and README name them). */
    static final List<String> COMMANDS = List.of("generate", "chat", "logits", "tokenize", "detokenize", "render",
            "quantize", "synth", "bench", "soak", "serve");

    /** A file named like a model that is not one: a command that loaded it would fail with exit code 1. */
    @TempDir
    static Path dir;

    private record Result(int code, String out, String err) {}

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = new Main(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(args);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Path notAModel() throws Exception {
        Path p = dir.resolve("not-a-model.gguf");
        if (!Files.exists(p)) {
            Files.writeString(p, "hello world, not a model");
        }
        return p;
    }

    /** Nothing was loaded: no demo-model note, no progress line, no load attempt on the (unloadable) model. */
    private static void assertNothingLoaded(Result r) {
        assertFalse(r.err().contains("demo model"), r.err());
        assertFalse(r.err().contains("loading"), r.err());
        assertFalse(r.err().contains("not a GGUF"), r.err());
        assertFalse(r.err().contains("model ready"), r.err());
    }

    @Test
    void mainHelpListsEveryCommandAndExitsZero() {
        Result r = run("--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("Usage: moe4j"), r.out());
        for (String command : COMMANDS) {
            assertTrue(r.out().contains("\n  " + command + " "), command + " missing from\n" + r.out());
        }
        assertEquals("", r.err());
    }

    @ParameterizedTest
    @FieldSource("COMMANDS")
    void everyCommandsHelpExitsZero(String command) {
        Result r = run(command, "--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Usage: moe4j " + command + " "), r.out());
        assertTrue(r.out().contains("--help"), r.out());
        Result viaHelp = run("help", command);
        assertEquals(0, viaHelp.code(), viaHelp.err());
        assertEquals(r.out(), viaHelp.out());
    }

    @Test
    void versionNamesTheProjectVersion() {
        Result r = run("--version");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s)moe4j \\d+\\.\\d+\\.\\d+\\S*\nJava .*"), r.out());
    }

    @Test
    void noCommandPrintsTheUsageAndExitsTwo() {
        Result r = run();
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Usage: moe4j"), r.err());
    }

    @Test
    void unknownOptionIsRejectedByName() throws Exception {
        Result r = run("generate", "--frob", "1", "-p", "hi", "--model", notAModel().toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("Unknown option") && r.err().contains("'--frob'"), r.err());
        assertTrue(r.out().isEmpty(), r.out());
        assertNothingLoaded(r);
    }

    @Test
    void misspelledModelOptionDoesNotFallBackToTheDemoModel() {
        Result top = run("--modle", "x");
        assertEquals(2, top.code(), top.err());
        assertTrue(top.err().contains("'--modle'"), top.err());
        Result r = run("generate", "--modle", "x", "-p", "hi");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("'--modle'") && r.err().contains("--model"), r.err()); // named, and suggested
        assertNothingLoaded(r);
    }

    @Test
    void unknownCommandIsNamed() {
        Result r = run("frobnicate");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown command 'frobnicate'"), r.err());
    }

    @Test
    void nonNumericCountIsRejectedBeforeTheModelLoads() throws Exception {
        long start = System.nanoTime();
        Result r = run("generate", "--model", notAModel().toString(), "-p", "hi", "-n", "abc");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("'-n'") && r.err().contains("'abc'"), r.err());
        assertNothingLoaded(r);
        // the demo model alone takes longer than this to load; a parse error takes milliseconds
        assertTrue(System.nanoTime() - start < 5_000_000_000L, "took " + (System.nanoTime() - start) / 1e6 + " ms");
    }

    @Test
    void outOfRangeValuesAreRejectedBeforeTheModelLoads() throws Exception {
        String model = notAModel().toString();
        String[][] cases = {
                {"-n must be >= 1, was -3", "generate", "--model", model, "-p", "hi", "-n", "-3"},
                {"-n must be >= 0, was -1", "generate", "--model", model, "--tokens", "1,2", "-n", "-1"},
                {"--temperature must be a finite number >= 0, was -0.5", "generate", "--model", model, "-p", "hi",
                        "--temperature", "-0.5"},
                {"--temperature must be a finite number >= 0, was NaN", "chat", "--model", model, "--temperature",
                        "NaN"},
                {"--budget must be >= 0 (or -1: no limit), was -2", "chat", "--model", model, "--budget", "-2"},
                {"--think and --no-think exclude each other", "chat", "--model", model, "--think", "--no-think"},
                {"--greedy and --temperature exclude each other", "generate", "--model", model, "-p", "hi",
                        "--greedy", "--temperature", "1"},
                {"--template must be one of", "generate", "--model", model, "-p", "hi", "--template", "chatml"},
                {"--threads must be >= 1, was 0", "generate", "--model", model, "-p", "hi", "--threads", "0"},
                {"--ctx must be >= 1, was -5", "chat", "--model", model, "--ctx", "-5"},
                {"--seed applies to -p", "generate", "--model", model, "--tokens", "1", "--seed", "3"},
                {"--tokens must be comma-separated integers, found 'x'", "logits", "--model", model, "--tokens",
                        "1,x", "--out", dir.resolve("o").toString()},
                {"does not exist", "logits", "--model", model, "--tokens", "1", "--out",
                        dir.resolve("no-such-dir/o").toString()},
                {"bench --parallel needs N >= 1, -p >= 1, -n >= 2", "bench", "--model", model, "--parallel", "2",
                        "-n", "1"},
                {"--long applies only with --parallel", "bench", "--model", model, "--long", "100"},
                {"bench needs -p >= 0, -n >= 0 and -r >= 1", "bench", "--model", model, "-r", "0"},
                {"--system applies only with --prefix-cache", "bench", "--model", model, "--system", "100"},
                {"--prefix-cache and --parallel are separate cases", "bench", "--model", model, "--prefix-cache",
                        "--parallel", "2"},
                {"--draft must be prompt-lookup or none, was eagle", "generate", "--model", model, "-p", "hi",
                        "--draft", "eagle"},
                {"--draft-tokens must be in 1..64, was 0", "chat", "--model", model, "--draft", "prompt-lookup",
                        "--draft-tokens", "0"},
                {"--draft needs the engine's scheduler", "generate", "--model", model, "--tokens", "1,2",
                        "--draft", "prompt-lookup"},
                {"--speculative is a case of its own", "bench", "--model", model, "--speculative", "--parallel", "2"},
                {"--draft applies to bench --parallel, --prefix-cache and --speculative", "bench", "--model", model,
                        "--draft", "prompt-lookup"},
                {"bench --prefix-cache needs --system >= 1", "bench", "--model", model, "--prefix-cache", "--system",
                        "0"},
                {"--minutes and --seconds are two ways", "soak", "--model", model, "--minutes", "1", "--seconds", "5"},
                {"--clients must be >= 1, was 0", "soak", "--model", model, "--clients", "0"},
                {"--cancel must be in [0, 1], was 1.5", "soak", "--model", model, "--cancel", "1.5"},
                {"--seconds must be > 0, was 0.0", "soak", "--model", model, "--seconds", "0"},
                {"model " + dir.resolve("missing.gguf") + " does not exist", "chat", "--model",
                        dir.resolve("missing.gguf").toString()},
                {"--layers must be in [1, 28], was 40", "synth", "--shape", "qwen3-0.6b", "--layers", "40", "--out",
                        dir.resolve("s.gguf").toString()},
                {"--port must be in [0, 65535], was 70000", "serve", "--model", model, "--port", "70000"},
                {"--parallel must be >= 1, was 0", "serve", "--model", model, "--parallel", "0"},
                {"--max-queue must be >= 1, was 0", "serve", "--model", model, "--max-queue", "0"},
                {"--api-key must not be blank", "serve", "--model", model, "--api-key", " "},
                {"IN " + dir.resolve("missing.gguf") + " does not exist", "quantize",
                        dir.resolve("missing.gguf").toString(), dir.resolve("q.gguf").toString(), "--type", "q8_0"},
        };
        for (String[] c : cases) {
            String[] args = java.util.Arrays.copyOfRange(c, 1, c.length);
            Result r = run(args);
            String call = String.join(" ", args);
            assertEquals(2, r.code(), call + "\n" + r.err());
            assertTrue(r.err().contains(c[0]), call + "\n" + r.err());
            assertTrue(r.err().contains("--help"), call + "\n" + r.err()); // points at the usage
            assertNothingLoaded(r);
        }
        assertFalse(Files.exists(dir.resolve("s.gguf")));
    }

    @Test
    void theUnloadableModelUsedAboveWouldFailIfLoaded() throws Exception {
        // guards the tests above: with valid options the same file reaches the loader and fails there
        Result r = run("generate", "--model", notAModel().toString(), "--tokens", "1", "-n", "1");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("not a GGUF"), r.err());
    }
}
