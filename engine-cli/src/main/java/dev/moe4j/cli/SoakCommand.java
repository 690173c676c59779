package dev.moe4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.api.Engine;
import dev.moe4j.bench.soak.Soak;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code moe4j soak}: many concurrent clients with random requests and cancellations for a while, every answer
 * checked against the same request run alone, and the engine checked for leaks; exit code 1 if a check fails.
 */
@Command(name = "soak", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Run many concurrent random requests for a while and check every answer and the engine's state.",
        description = {"--clients clients send random chats and completions (random sampling, stop strings, thinking"
                + " modes and budgets, lengths; some cancelled after a delay or a number of deltas) for --minutes or"
                + " --seconds, in rounds.",
                "Checks: each request that ran to its end gives the response it gives run alone (a second engine, one"
                        + " sequence, no prefix cache); a cancelled one streams nothing after cancel() and ends within"
                        + " a step; when idle after each round all KV blocks are free; heap after GC does not grow;"
                        + " no thread is left after close. Exit code 1 if any check fails."})
final class SoakCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--clients", paramLabel = "N", defaultValue = "64",
            description = "concurrent clients (default: ${DEFAULT-VALUE})")
    int clients;

    @Option(names = "--minutes", paramLabel = "M", description = "minutes under load (default: 10)")
    Double minutes;

    @Option(names = "--seconds", paramLabel = "S", description = "seconds under load, instead of --minutes")
    Double seconds;

    @Option(names = "--rounds", paramLabel = "N",
            description = "rounds, each ended by the idle checks and a heap reading (default: one a minute, at least 3)")
    Integer rounds;

    @Option(names = "--max-sequences", paramLabel = "N", defaultValue = "16",
            description = "sequences the engine runs at once; the other clients wait (default: ${DEFAULT-VALUE})")
    int maxSequences;

    @Option(names = "--kv-blocks", paramLabel = "N",
            description = "the engine's KV blocks (default: half of what the running sequences' full contexts need;"
                    + " fewer make preemption frequent)")
    Integer kvBlocks;

    @Option(names = "--context", paramLabel = "N", defaultValue = "512",
            description = "positions per sequence (default: ${DEFAULT-VALUE})")
    int context;

    @Option(names = "--cancel", paramLabel = "F", defaultValue = "0.2",
            description = "share of requests cancelled by their client (default: ${DEFAULT-VALUE})")
    double cancelFraction;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "256",
            description = "the largest maxTokens drawn (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "the run's seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--json", description = "one JSON object instead of a table")
    boolean json;

    @Mixin
    ModelOptions model = new ModelOptions();

    @Override
    public Integer call() throws Exception {
        if (minutes != null && seconds != null) {
            throw new UsageException("--minutes and --seconds are two ways to say the same; choose one");
        }
        double totalSeconds = seconds != null ? seconds : 60 * (minutes != null ? minutes : 10);
        int n = rounds != null ? rounds : Math.max(3, (int) Math.round(totalSeconds / 60));
        require(clients >= 1, "--clients must be >= 1, was " + clients);
        require(totalSeconds > 0, (seconds != null ? "--seconds" : "--minutes") + " must be > 0, was "
                + (seconds != null ? seconds : minutes));
        require(n >= 1, "--rounds must be >= 1, was " + n);
        require(maxSequences >= 1, "--max-sequences must be >= 1, was " + maxSequences);
        require(kvBlocks == null || kvBlocks >= 1, "--kv-blocks must be >= 1, was " + kvBlocks);
        require(context >= 64, "--context must be >= 64, was " + context);
        require(cancelFraction >= 0 && cancelFraction <= 1, "--cancel must be in [0, 1], was " + cancelFraction);
        require(maxTokens >= 1, "--max-tokens must be >= 1, was " + maxTokens);
        Path path = model.resolve(main.err);
        Soak.Settings settings = new Soak.Settings(clients, Math.round(totalSeconds * 1000), n, seed, maxSequences,
                kvBlocks != null ? kvBlocks : 0, context, cancelFraction, 96, maxTokens);
        Engine.Options options = Engine.Options.defaults().withRoundedActivations(model.rounded())
                .withPrefixCache(!model.noPrefixCache).withWarmup(!model.noWarmup);
        main.err.printf(Locale.ROOT, "soak: %d clients for %.0f s in %d rounds on %s ...%n", clients, totalSeconds, n,
                path.getFileName());
        Soak.Report r = Soak.run(path, options, settings, main.err::println);
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode node = mapper.valueToTree(r);
            node.put("passed", r.passed());
            main.out.println(mapper.writeValueAsString(node));
        } else {
            table(r, main.out);
        }
        return r.passed() ? 0 : 1;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new UsageException(message);
        }
    }

    private static void table(Soak.Report r, PrintStream out) {
        out.println("| check | value |");
        out.println("|---|---|");
        row(out, "model", r.model() + " (" + r.architecture() + ")");
        row(out, "load", String.format(Locale.ROOT, "%d clients, %d sequences at once, %d KV blocks, context %d, "
                + "%.0f s under load in %d rounds (%.0f s with the replays' tails)", r.clients(), r.maxSequences(),
                r.kvBlocks(), r.contextLength(), r.seconds(), r.rounds(), r.wallSeconds()));
        row(out, "requests", String.format(Locale.ROOT, "%d submitted, %d completed, %d cancelled, %d failed, %d hung;"
                        + " %d refused as longer than the context", r.submitted(), r.completed(), r.cancelled(),
                r.errors(), r.hung(), r.refused()));
        row(out, "mismatches against alone", r.mismatches() + " of " + r.replayed() + " replayed");
        row(out, "streamed text against response", r.streamMismatches() + " differ");
        row(out, "deltas after cancel() returned", "at most " + r.maxDeltasAfterCancel());
        row(out, "cancel() to end ms", String.format(Locale.ROOT, "p50 %.1f, p99 %.1f, max %.1f (limit %.1f)",
                r.cancelP50Ms(), r.cancelP99Ms(), r.cancelMaxMs(), r.cancelBoundMs()));
        row(out, "leaked KV blocks / recurrent slots", r.leakedBlocks() + " / " + r.leakedRecurrentSlots());
        row(out, "heap after GC per round MB", heap(r.heapMb()) + String.format(Locale.ROOT, " (%+.1f)",
                r.heapGrowthMb()));
        row(out, "threads left after close", r.leftoverThreads().isEmpty() ? "none" : r.leftoverThreads().toString());
        row(out, "time to first token ms", String.format(Locale.ROOT, "p50 %.1f, p99 %.1f", r.ttftP50Ms(),
                r.ttftP99Ms()));
        row(out, "inter-token ms", String.format(Locale.ROOT, "p50 %.2f, p99 %.2f", r.itlP50Ms(), r.itlP99Ms()));
        row(out, "tokens / preemptions / cached prompt tokens", r.tokensGenerated() + " / " + r.preemptions() + " / "
                + r.cachedPromptTokens());
        row(out, "load average (1 min) start, end", String.format(Locale.ROOT, "%.2f, %.2f", r.loadAverageStart(),
                r.loadAverageEnd()));
        row(out, "result", r.passed() ? "PASS" : "FAIL: " + String.join("; ", r.failures()));
        for (String e : r.examples()) {
            row(out, "example", e);
        }
    }

    private static void row(PrintStream out, String name, String value) {
        out.println("| " + name + " | " + value.replace("|", "\\|") + " |");
    }

    private static String heap(List<Double> mb) {
        StringBuilder s = new StringBuilder();
        for (double v : mb) {
            s.append(s.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.1f", v));
        }
        return s.toString();
    }
}
