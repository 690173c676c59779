package dev.moe4j.cli;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/** Where chat reads its lines: a line editor on a terminal, or plain lines from a stream (piped stdin). */
interface LineInput extends Closeable {
    /** The next line without its end, or null when the input ends (Ctrl-D, or Ctrl-C at an empty prompt). */
    String readLine(String prompt) throws IOException;

    /** Runs {@code action} on Ctrl-C until the returned registration is closed. */
    Interrupts onInterrupt(Runnable action);

    /** A Ctrl-C registration; closing it restores what Ctrl-C did before. */
    interface Interrupts extends AutoCloseable {
        @Override
        void close();
    }

    /** Lines of {@code in}, the prompt written to {@code out}; Ctrl-C keeps the JVM's default (it ends the process). */
    static LineInput plain(InputStream in, PrintStream out) {
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        return new LineInput() {
            @Override
            public String readLine(String prompt) throws IOException {
                out.print(prompt);
                out.flush();
                return reader.readLine();
            }

            @Override
            public Interrupts onInterrupt(Runnable action) {
                return () -> { };
            }

            @Override
            public void close() {
                // the stream belongs to the caller
            }
        };
    }

    /** JLine on the process's terminal. */
    static LineInput terminal() throws IOException {
        return editor(TerminalBuilder.builder().system(true).build());
    }

    /** JLine on {@code terminal}: line editing, in-memory history, Ctrl-C as a signal between lines. */
    static LineInput editor(Terminal terminal) {
        DefaultParser parser = new DefaultParser();
        // a message is taken as typed: no quotes to balance, no backslash escapes
        parser.setQuoteChars(new char[0]);
        parser.setEscapeChars(new char[0]);
        LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("moe4j").parser(parser)
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true) // '!' is text, not a history reference
                .build();
        return new LineInput() {
            @Override
            public String readLine(String prompt) {
                while (true) {
                    try {
                        return reader.readLine(prompt);
                    } catch (UserInterruptException e) {
                        if (e.getPartialLine().isBlank()) {
                            return null;
                        }
                        // Ctrl-C over a half-typed line drops that line, as shells do
                    } catch (EndOfFileException e) {
                        return null;
                    }
                }
            }

            @Override
            public Interrupts onInterrupt(Runnable action) {
                Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, signal -> action.run());
                return () -> terminal.handle(Terminal.Signal.INT, previous);
            }

            @Override
            public void close() throws IOException {
                terminal.close();
            }
        };
    }
}
