package dev.moe4j.cli;

import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.Engine;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import dev.moe4j.api.ToolCall;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** {@code moe4j generate -p} and {@code moe4j chat}: text in, streamed text out through the chat template. */
final class ChatCommands {
    private static final String DIM = "\u001b[2m";
    private static final String RESET = "\u001b[0m";

    private ChatCommands() {}

    /** Reads the model file once with a progress bar (so the weights are in the page cache), then loads it. */
    static Engine loadEngine(Args args, PrintStream err) throws IOException {
        String threads = args.get("threads", args.get("t"));
        if (threads != null) {
            System.setProperty("moe4j.threads", threads);
        }
        Path path = ModelPaths.resolve(args.get("model"), err);
        warm(path, err);
        Engine.Options options = Engine.Options.defaults().withRoundedActivations(Main.roundedActivations(args));
        int context = args.getInt("ctx", 0);
        if (context > 0) {
            options = options.withContextLength(context);
        }
        long start = System.nanoTime();
        Engine engine = Engine.load(path, options);
        err.printf("model ready in %d ms: %s, %d layers, context %d%s%n", (System.nanoTime() - start) / 1_000_000,
                engine.config().architecture(), engine.config().numLayers(), engine.contextLength(),
                options.roundedActivations() ? ", Q4_0 decode with rounded activations" : "");
        return engine;
    }

    private static void warm(Path path, PrintStream err) throws IOException {
        if (path.toFile().isDirectory()) {
            return;
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocateDirect(8 << 20);
            long done = 0;
            int lastPercent = -1;
            while (true) {
                buf.clear();
                int n = ch.read(buf);
                if (n < 0) {
                    break;
                }
                done += n;
                int percent = (int) (100 * done / Math.max(1, size));
                if (percent != lastPercent) {
                    lastPercent = percent;
                    int bars = percent / 4;
                    err.printf("\rloading %s [%s%s] %3d%%", path.getFileName(), "#".repeat(bars), " ".repeat(25 - bars), percent);
                }
            }
            err.println();
        }
    }

    static Thinking thinking(Args args) {
        if (args.flag("think")) {
            return Thinking.ON;
        }
        if (args.flag("no-think")) {
            return Thinking.OFF;
        }
        return Thinking.MODEL_DEFAULT;
    }

    static ChatRequest.Builder options(ChatRequest.Builder b, Args args) {
        b.thinking(thinking(args)).maxTokens(args.getInt("n", ChatRequest.DEFAULT_MAX_TOKENS))
                .thinkingBudget(args.getInt("budget", -1));
        if (args.get("seed") != null) {
            b.seed(args.getInt("seed", 0));
        }
        if (args.flag("greedy")) {
            b.sampling(SamplingParams.GREEDY);
        } else if (args.get("temperature") != null) {
            double t = Double.parseDouble(args.get("temperature"));
            b.sampling((thinking(args) == Thinking.OFF ? SamplingParams.NON_THINKING : SamplingParams.THINKING)
                    .withTemperature(t));
        }
        if (args.get("template") != null) {
            b.chatTemplate(args.get("template"));
        }
        return b;
    }

    /** Streams to {@code out}: reasoning dimmed when {@code color}, content plain, tool calls as lines. */
    static final class Printer implements ChatListener {
        private final PrintStream out;
        private final boolean color;
        private boolean inReasoning;

        Printer(PrintStream out, boolean color) {
            this.out = out;
            this.color = color;
        }

        @Override
        public void onReasoning(String delta) {
            if (!inReasoning) {
                inReasoning = true;
                out.print(color ? DIM : "<think>\n");
            }
            out.print(delta);
            out.flush();
        }

        @Override
        public void onContent(String delta) {
            endReasoning();
            out.print(delta);
            out.flush();
        }

        @Override
        public void onToolCall(ToolCall call) {
            endReasoning();
            out.println("\n[tool call] " + call.name() + " " + call.arguments());
        }

        private void endReasoning() {
            if (inReasoning) {
                inReasoning = false;
                out.print(color ? RESET + "\n" : "\n</think>\n\n");
            }
        }

        @Override
        public void onComplete(ChatResponse response) {
            endReasoning();
            out.println();
            out.flush();
        }
    }

    static int generate(Args args, PrintStream out, PrintStream err) throws IOException {
        String prompt = args.require("p");
        try (Engine engine = loadEngine(args, err)) {
            ChatRequest request = options(ChatRequest.builder().user(prompt), args).build();
            long start = System.nanoTime();
            ChatResponse r = engine.chatStream(request, new Printer(out, System.console() != null)).await();
            double s = (System.nanoTime() - start) / 1e9;
            err.printf("[%s; %d prompt + %d generated tokens (%d reasoning) in %.2f s, %.1f tok/s]%n",
                    r.finishReason(), r.usage().promptTokens(), r.usage().completionTokens(),
                    r.usage().reasoningTokens(), s, r.usage().completionTokens() / s);
        }
        return 0;
    }

    static int chat(Args args, InputStream in, PrintStream out, PrintStream err) throws IOException {
        try (Engine engine = loadEngine(args, err)) {
            boolean color = System.console() != null;
            Thinking thinking = thinking(args);
            List<ChatMessage> history = new ArrayList<>();
            if (args.get("system") != null) {
                history.add(ChatMessage.system(args.get("system")));
            }
            err.println("type a message; /think and /no_think switch thinking, /reset clears the history, /exit quits");
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            while (true) {
                out.print("> ");
                out.flush();
                String line = reader.readLine();
                if (line == null || line.strip().equals("/exit")) {
                    return 0;
                }
                switch (line.strip()) {
                    case "" -> {
                        continue;
                    }
                    case "/think" -> {
                        thinking = Thinking.ON;
                        err.println("thinking on");
                        continue;
                    }
                    case "/no_think" -> {
                        thinking = Thinking.OFF;
                        err.println("thinking off");
                        continue;
                    }
                    case "/reset" -> {
                        history.clear();
                        err.println("history cleared");
                        continue;
                    }
                    default -> { }
                }
                history.add(ChatMessage.user(line));
                ChatRequest request = options(ChatRequest.builder().messages(history), args).thinking(thinking).build();
                ChatResponse r = engine.chatStream(request, new Printer(out, color)).await();
                history.add(ChatMessage.assistant(r.content(), r.reasoning(), r.toolCalls()));
            }
        }
    }
}
