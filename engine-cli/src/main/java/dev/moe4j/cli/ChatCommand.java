package dev.moe4j.cli;

import dev.moe4j.api.ChatHandle;
import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.Engine;
import dev.moe4j.api.FinishReason;
import dev.moe4j.api.Thinking;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code moe4j chat}: a conversation on the terminal (line editing, history; Ctrl-C stops an answer, Ctrl-C or
 * Ctrl-D at an empty prompt quits) or over piped stdin, one message a line.
 */
@Command(name = "chat", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Chat on the terminal, or line by line over piped stdin.",
        description = {"Interactive chat, one message a line: /think and /no_think switch thinking, /reset clears the"
                + " history, /help lists these, /exit quits.",
                "On a terminal: line editing and history; Ctrl-C stops the answer being written, Ctrl-C or Ctrl-D at"
                        + " an empty prompt quits. Piped stdin is read line by line."})
final class ChatCommand implements Callable<Integer> {
    static final String COMMANDS = String.join("\n",
            "/think      thinking on for the next answers",
            "/no_think   thinking off",
            "/reset      clear the conversation (the system message stays)",
            "/help       this list",
            "/exit       quit (also Ctrl-D, or Ctrl-C at an empty prompt; Ctrl-C during an answer stops it)");

    @ParentCommand
    Main main;

    @Option(names = "--system", paramLabel = "TEXT", description = "the system message")
    String system;

    @Mixin
    GenerationOptions generation = new GenerationOptions();

    @Mixin
    ModelOptions model = new ModelOptions();

    @Override
    public Integer call() throws IOException {
        generation.validate();
        Path path = model.resolve(main.err);
        try (Engine engine = model.loadEngine(path, generation.engineOptions(), main.err, main.terminal);
                LineInput lines = main.chatInput.open()) {
            converse(engine, lines);
        }
        return 0;
    }

    private void converse(Engine engine, LineInput lines) throws IOException {
        Thinking thinking = generation.thinking();
        List<ChatMessage> history = new ArrayList<>();
        if (system != null) {
            history.add(ChatMessage.system(system));
        }
        main.err.println("type a message; /help lists the commands");
        AtomicReference<ChatHandle> running = new AtomicReference<>();
        while (true) {
            String line = lines.readLine("> ");
            if (line == null || line.strip().equals("/exit")) {
                return;
            }
            switch (line.strip()) {
                case "" -> {
                    continue;
                }
                case "/think" -> {
                    thinking = Thinking.ON;
                    main.err.println("thinking on");
                    continue;
                }
                case "/no_think" -> {
                    thinking = Thinking.OFF;
                    main.err.println("thinking off");
                    continue;
                }
                case "/reset" -> {
                    history.clear();
                    if (system != null) {
                        history.add(ChatMessage.system(system));
                    }
                    main.err.println("history cleared");
                    continue;
                }
                case "/help" -> {
                    main.err.println(COMMANDS);
                    continue;
                }
                default -> { }
            }
            List<ChatMessage> turn = new ArrayList<>(history);
            turn.add(ChatMessage.user(line));
            ChatRequest request = generation.apply(ChatRequest.builder().messages(turn), thinking).build();
            ChatResponse r;
            // Ctrl-C while the answer streams cancels it (within one step) instead of ending the process
            LineInput.Interrupts interrupts = lines.onInterrupt(() -> {
                ChatHandle h = running.get();
                if (h != null) {
                    h.cancel();
                }
            });
            try {
                running.set(engine.chatStream(request, new StreamPrinter(main.out, main.terminal)));
                r = running.get().await();
            } finally {
                running.set(null);
                interrupts.close();
            }
            if (r.finishReason() == FinishReason.CANCELLED) {
                // a stopped answer is left out of the history, with the message it answered
                main.err.println("[stopped; this exchange is not kept]");
                continue;
            }
            history.add(ChatMessage.user(line));
            history.add(ChatMessage.assistant(r.content(), r.reasoning(), r.toolCalls()));
        }
    }
}
