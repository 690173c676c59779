package dev.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.junit.jupiter.api.Test;

/**
 * The chat prompt on a terminal: JLine over an emulated terminal whose keys the test types (its line discipline turns
 * Ctrl-C into the same INT signal a real terminal sends).
 */
class ChatTerminalTest {
    /**
     * JLine's line discipline in Java over the test's streams; the native providers would put them behind a real pty,
     * whose kernel turns Ctrl-C into a signal for a process group this JVM is not in.
     */
    private static Terminal terminal(InputStream keys, OutputStream screen) throws IOException {
        return TerminalBuilder.builder().system(false).streams(keys, screen).ffm(false).jni(false).type("xterm")
                .size(Size.of(100, 24)).encoding(StandardCharsets.UTF_8).build();
    }

    /** Keys typed by the test, read by the terminal as they come (a blocking stream, unlike a pipe tied to threads). */
    private static final class Keyboard extends InputStream {
        private final BlockingQueue<Integer> keys = new LinkedBlockingQueue<>();

        void type(String text) {
            for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
                keys.add(b & 0xff);
            }
        }

        @Override
        public int read() throws IOException {
            try {
                return keys.take();
            } catch (InterruptedException e) {
                throw new InterruptedIOException();
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            b[off] = (byte) read();
            int n = 1;
            for (Integer next; n < len && (next = keys.poll()) != null; n++) {
                b[off + n] = next.byteValue();
            }
            return n;
        }

        @Override
        public int available() {
            return keys.size();
        }
    }

    /** A stream the test can read while another thread writes it. */
    private static final class Screen extends ByteArrayOutputStream {
        synchronized String text() {
            return toString(StandardCharsets.UTF_8);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        await(condition, () -> what);
    }

    private static void await(BooleanSupplier condition, Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what.get());
            }
            Thread.sleep(20);
        }
    }

    /** Runs {@code work} on a thread of its own (the common pool may have one thread, taken by another test). */
    private static <T> CompletableFuture<T> inThread(Supplier<T> work) {
        return CompletableFuture.supplyAsync(work, task -> Thread.ofPlatform().daemon().start(task));
    }

    /** Types {@code keys} once the prompt shows, as a person would (JLine first queries the terminal). */
    private static String typeAtPrompt(String keys, int lines) throws Exception {
        Keyboard keyboard = new Keyboard();
        Screen screen = new Screen();
        try (LineInput editor = LineInput.editor(terminal(keyboard, screen))) {
            CompletableFuture<String> line = inThread(() -> {
                try {
                    StringBuilder read = new StringBuilder();
                    for (int i = 0; i < lines; i++) {
                        read.append(editor.readLine("> ")).append('|');
                    }
                    return read.toString();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            await(() -> screen.text().contains("> "), "the prompt");
            keyboard.type(keys);
            return line.get(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void editsALineThenCtrlDAtAnEmptyPromptEndsTheInput() throws Exception {
        // Backspace, Enter, then Ctrl-D at the next (empty) prompt
        assertEquals("helo there|null|", typeAtPrompt("hel\u007flo there\r\u0004", 2));
    }

    @Test
    void quotesBackslashesAndBangsAreTakenAsTyped() throws Exception {
        String typed = "it's a \"test\" \\n !x";
        assertEquals(typed + "|", typeAtPrompt(typed + "\r", 1));
    }

    @Test
    void ctrlCStopsTheAnswerAndCtrlCAtAnEmptyPromptQuits() throws Exception {
        Keyboard keys = new Keyboard();
        Screen screen = new Screen();
        Screen out = new Screen();
        Screen err = new Screen();
        Main main = new Main(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        main.chatInput = () -> LineInput.editor(terminal(keys, screen));
        // an answer far longer than the test waits for, so only Ctrl-C can end it
        CompletableFuture<Integer> code = inThread(() -> main.run(new String[] {"chat", "--model",
                ChatCliTest.TINY.toString(), "-n", "4000", "--seed", "1"}));

        await(() -> screen.text().contains("> "), "the first prompt");
        keys.type("Tell me everything\r");
        await(() -> out.text().length() > 8, "the answer to start streaming");
        keys.type("\u0003"); // Ctrl-C
        await(() -> err.text().contains("[stopped; this exchange is not kept]"),
                () -> "the answer to stop\n" + err.text() + "\nout: " + out.text());
        await(() -> screen.text().indexOf("> ") != screen.text().lastIndexOf("> "), "the second prompt");
        keys.type("\u0003"); // Ctrl-C at the empty prompt

        assertEquals(0, code.get(60, TimeUnit.SECONDS), err.text());
        assertTrue(!code.isCompletedExceptionally());
    }
}
