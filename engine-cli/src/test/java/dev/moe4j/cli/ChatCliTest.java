package dev.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.Engine;
import dev.moe4j.api.Thinking;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code generate -p} and {@code chat} on the bundled tiny model, each answer checked against the same request run
 * on {@link Engine} directly.
 */
class ChatCliTest {
    /** The bundled demo model, relative to this module (scripts/moe4j passes the repository as moe4j.home). */
    static final Path TINY = Path.of("..").resolve(ModelPaths.DEMO);

    static Engine engine;

    @BeforeAll
    static void load() {
        assertTrue(Files.isRegularFile(TINY), "missing " + TINY.toAbsolutePath());
        engine = Engine.load(TINY);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private record Result(int code, String out, String err) {}

    private static Result run(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = new Main(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(args);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** What the command prints of an answer when stdout is not a terminal. */
    private static String printed(ChatResponse r) {
        String reasoning = r.reasoning() == null || r.reasoning().isEmpty() ? ""
                : "<think>\n" + r.reasoning() + "\n</think>\n\n";
        return reasoning + r.content() + "\n";
    }

    @Test
    void generateWithoutModelAnnouncesAndRunsTheDemoModelAsTheEngineDoes() {
        String prompt = "Write a haiku about the JVM.";
        String home = System.getProperty("moe4j.home");
        System.setProperty("moe4j.home", "..");
        Result r;
        try {
            r = run("", "generate", "-p", prompt, "-n", "24", "--seed", "7");
        } finally {
            if (home == null) {
                System.clearProperty("moe4j.home");
            } else {
                System.setProperty("moe4j.home", home);
            }
        }
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("no --model given: using the bundled demo model " + ModelPaths.DEMO), r.err());
        ChatResponse expected = engine.chat(ChatRequest.builder().user(prompt).maxTokens(24).seed(7).build());
        assertEquals(printed(expected), r.out());
        assertTrue(r.err().contains(expected.usage().completionTokens() + " generated tokens"), r.err());
    }

    @Test
    void generateWithSamplingOptionsMatchesTheEngine() {
        Result r = run("", "generate", "--model", TINY.toString(), "-p", "Hello", "-n", "16", "--seed", "11",
                "--no-think", "--temperature", "1.3");
        assertEquals(0, r.code(), r.err());
        ChatResponse expected = engine.chat(ChatRequest.builder().user("Hello").maxTokens(16).seed(11)
                .thinking(Thinking.OFF).sampling(dev.moe4j.api.SamplingParams.NON_THINKING.withTemperature(1.3))
                .build());
        assertEquals(printed(expected), r.out());
    }

    @Test
    void chatReadsPipedLinesKeepsHistoryAndResets() {
        String[] lines = {"Hello there", "And then?", "/reset", "Again"};
        Result r = run(String.join("\n", lines) + "\n", "chat", "--model", TINY.toString(), "-n", "12", "--seed", "5",
                "--system", "Be brief.");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("history cleared"), r.err());

        List<ChatMessage> history = new ArrayList<>(List.of(ChatMessage.system("Be brief.")));
        StringBuilder expected = new StringBuilder();
        for (String line : lines) {
            expected.append("> ");
            if (line.equals("/reset")) {
                history = new ArrayList<>(List.of(ChatMessage.system("Be brief.")));
                continue;
            }
            history.add(ChatMessage.user(line));
            ChatResponse answer = engine.chat(ChatRequest.builder().messages(history).maxTokens(12).seed(5).build());
            history.add(ChatMessage.assistant(answer.content(), answer.reasoning(), answer.toolCalls()));
            expected.append(printed(answer));
        }
        expected.append("> "); // the prompt at which the input ended
        assertEquals(expected.toString(), r.out());
    }

    @Test
    void chatEndsAtExitCommand() {
        Result r = run("/exit\nnever read\n", "chat", "--model", TINY.toString(), "-n", "4");
        assertEquals(0, r.code(), r.err());
        assertEquals("> ", r.out());
    }

    @Test
    void helpListsTheChatCommandsWithoutAskingTheModel() {
        Result r = run("/help\n/exit\n", "chat", "--model", TINY.toString(), "-n", "4");
        assertEquals(0, r.code(), r.err());
        for (String command : new String[] {"/think", "/no_think", "/reset", "/help", "/exit"}) {
            assertTrue(r.err().contains(command + " "), command + " missing from:\n" + r.err());
        }
        assertEquals("> > ", r.out()); // two prompts, no answer
    }
}
