package dev.moe4j.cli;

import dev.moe4j.api.Moe4jException;
import dev.moe4j.tokenizer.TokenizerException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code moe4j} command. Results go to stdout (or --out); progress and notes to stderr. Exit codes: 0 done, 1 the
 * work failed (a corrupt model, an I/O error), 2 the command was called wrongly (found before any model loads).
 */
@Command(name = "moe4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        synopsisSubcommandLabel = "COMMAND",
        description = "Pure-Java inference for Qwen3-family models (GGUF files and Hugging Face directories).",
        footer = {"", "Run 'moe4j COMMAND --help' for a command's options. Commands that load a model take --model"
                + " (without it, the bundled demo model with random weights), --threads and --rounded-activations."},
        // every subcommand, in the order the usage lists them; a new command is one class added here
        subcommands = {
                GenerateCommand.class,
                ChatCommand.class,
                LogitsCommand.class,
                TokenizeCommands.Tokenize.class,
                TokenizeCommands.Detokenize.class,
                RenderCommand.class,
                ServeCommand.class,
                QuantizeCommand.class,
                SynthCommand.class,
                BenchCommand.class,
                SoakCommand.class,
                HelpCommand.class,
        })
public final class Main implements Callable<Integer> {
    /** Exit code of a command called wrongly (picocli's default for invalid input). */
    static final int USAGE_ERROR = 2;

    final InputStream in;
    final PrintStream out;
    final PrintStream err;
    /** Whether stdin and stdout are an interactive terminal: colours, and the line editor for chat. */
    final boolean terminal;

    @Spec
    CommandSpec spec;

    /** Opens the chat's input: the line editor on a terminal, else plain lines of {@link #in}. */
    interface ChatInput {
        LineInput open() throws IOException;
    }

    /** Replaced by tests that drive the line editor through a terminal of their own. */
    ChatInput chatInput;

    Main(InputStream in, PrintStream out, PrintStream err, boolean terminal) {
        this.in = in;
        this.out = out;
        this.err = err;
        this.terminal = terminal;
        this.chatInput = () -> terminal ? LineInput.terminal() : LineInput.plain(in, out);
    }

    /** Not on a terminal: how tests and other programs call it. */
    Main(InputStream in, PrintStream out, PrintStream err) {
        this(in, out, err, false);
    }

    Main(PrintStream out, PrintStream err) {
        this(System.in, out, err);
    }

    public static void main(String[] argv) {
        // since JDK 22 System.console() exists even when redirected; isTerminal() tells a real terminal
        boolean terminal = System.console() != null && System.console().isTerminal();
        System.exit(new Main(System.in, System.out, System.err, terminal).run(argv));
    }

    int run(String[] argv) {
        return commandLine().execute(argv);
    }

    /** The parser over this instance's streams, with moe4j's error reporting. */
    CommandLine commandLine() {
        CommandLine cli = new CommandLine(this);
        cli.setOut(new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        cli.setErr(new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true));
        cli.setColorScheme(Help.defaultColorScheme(terminal ? Help.Ansi.AUTO : Help.Ansi.OFF));
        cli.setParameterExceptionHandler((e, args) -> usageError(e.getCommandLine(), message(e), e));
        cli.setExecutionExceptionHandler((e, command, parsed) -> failed(e, command));
        return cli;
    }

    /** {@code moe4j} alone: the usage, as for a wrong invocation. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return USAGE_ERROR;
    }

    /** picocli's message, but a word where a command belongs is called an unknown command. */
    private static String message(ParameterException e) {
        if (e instanceof UnmatchedArgumentException unmatched && !unmatched.isUnknownOption()
                && !e.getCommandLine().getSubcommands().isEmpty() && !unmatched.getUnmatched().isEmpty()) {
            return "unknown command '" + unmatched.getUnmatched().getFirst() + "'";
        }
        return e.getMessage();
    }

    private static int usageError(CommandLine command, String message, ParameterException cause) {
        PrintWriter w = command.getErr();
        // picocli prefixes a few of its messages with "Error: "; ours all start with "moe4j: "
        w.println("moe4j: " + message.replaceFirst("^Error: ", ""));
        if (cause != null) {
            UnmatchedArgumentException.printSuggestions(cause, w);
        }
        w.println("Try '" + command.getCommandSpec().qualifiedName() + " --help' for its options.");
        w.flush();
        return USAGE_ERROR;
    }

    /** What a command threw: a usage problem (exit 2), a failure with a message of its own (1), or a bug (1). */
    private static int failed(Exception e, CommandLine command) {
        if (e instanceof UsageException) {
            return usageError(command, e.getMessage(), null);
        }
        PrintWriter w = command.getErr();
        if (e instanceof NoSuchFileException missing) {
            w.println("moe4j: no such file: " + missing.getFile());
        } else if (e instanceof IOException || e instanceof UncheckedIOException) {
            w.println("moe4j: I/O error: " + (e.getCause() instanceof IOException io ? io : e).getMessage());
        } else if (e instanceof Moe4jException || e instanceof IllegalArgumentException
                || e instanceof TokenizerException) {
            w.println("moe4j: " + e.getMessage());
        } else if (e instanceof InterruptedException) {
            w.println("moe4j: interrupted");
        } else {
            w.println("moe4j: unexpected error: " + e);
            e.printStackTrace(w);
        }
        w.flush();
        return 1;
    }

    /** The project version (filtered into version.properties at build time) and the JVM running it. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream s = Main.class.getResourceAsStream("version.properties")) {
                if (s != null) {
                    p.load(s);
                }
            }
            return new String[] {"moe4j " + p.getProperty("version", "(unknown version)"),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")"};
        }
    }
}
