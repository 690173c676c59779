package dev.moe4j.cli;

import dev.moe4j.api.Moe4jException;
import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.format.gguf.GgufQuantizer;
import dev.moe4j.format.gguf.QuantType;
import dev.moe4j.kernels.Kernels;
import dev.moe4j.model.Batch;
import dev.moe4j.model.GgufTensorSource;
import dev.moe4j.model.Model;
import dev.moe4j.model.Scratch;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import dev.moe4j.api.Engine;
import java.nio.file.Path;
import java.util.Set;

/** The {@code moe4j} command. Results go to stdout (or --out); progress and notes to stderr. */
public final class Main {
    static final String USAGE = """
            usage: moe4j <command> [options]

            commands:
              generate  [--model M] -p "text" [--think|--no-think] [--budget N] [-n N] [--greedy|--temperature T]
                        [--seed S] [--template NAME]
                        chat-templated generation, streamed (reasoning dimmed on a terminal)
              generate  [--model M] --tokens 1,2,3 [-n 32] [--greedy]
                        greedy continuation of token ids; prints the generated ids, space-separated, on one line
              chat      [--model M] [--system "..."] [--think|--no-think] [--budget N]
                        interactive chat; /think and /no_think toggle thinking, /reset, /exit
              tokenize  --tokenizer tokenizer.json|model.gguf [--jsonl] [--text T] [--no-special]
                        ids of the text (stdin or --text) as a JSON array; --jsonl: one JSON string per input line
                        in, one JSON array per line out
              detokenize --tokenizer tokenizer.json|model.gguf [--jsonl] [--ids 1,2,3] [--skip-special]
                        the reverse: ids (stdin or --ids) to text; --jsonl: JSON arrays in, JSON strings out
              logits    [--model M.gguf] --tokens 1,2,3 --out F
                        writes little-endian float32 logits [T][n_vocab], one row per position
              synth     --shape qwen3-0.6b|qwen3-4b|qwen3-30b-a3b|qwen3-next-80b-a3b [--layers N]
                        --type f32|bf16|f16|q8_0|q4_0|q4_k|q5_k|q6_k|q4_k_m|q5_k_m [--vocab V.gguf] --out F.gguf
                        a GGUF with RANDOM weights at a real model's shapes, for speed work (k-quant types:
                        drawn in F32 and quantized as the quantize command would)
              bench     [--model M.gguf] [-p 512] [-n 128] [-r 5] [-t 2] [--json]
                        prefill (ppN) and decode (tgN) tokens/s, median of -r runs, with the decode weight
                        bandwidth and this machine's measured read bandwidth
              bench     --parallel N [--model M.gguf] [-p 512] [-n 128] [--long 2000] [--step-tokens K]
                        [--batch-tokens B] [--json]
                        N requests at once through the scheduler: aggregate decode tokens/s and time to first
                        token; then inter-token latency p50/p99 of N streams while a --long prompt arrives
              quantize  IN.gguf OUT.gguf --type q8_0|q4_0|q4_k|q5_k|q6_k|q4_k_m|q5_k_m
                        quantizes the weight matrices of an F32/F16/BF16 GGUF, the same bytes as llama-quantize
                        without an importance matrix: q8_0 ... q6_k every matrix in that type (--pure), q4_k_m
                        and q5_k_m llama.cpp's mixes (Q6_K for the output and some attn_v / ffn_down layers)
              render    --chat-template T.jinja|M.gguf|NAME --request R.json
                        prints the exact prompt the chat template makes of the request (messages, tools,
                        enable_thinking, add_generation_prompt), as UTF-8, no newline added

            common options:
              --model PATH      a Qwen3 / Qwen3-MoE GGUF file; without it, the bundled demo model (random weights)
              --threads N       worker threads (default: all cores)
              --rounded-activations
                                Q4_0 decode rounds activations to 9 bits per block of 32 (llama.cpp rounds to 8):
                                faster, not the bits of the default F32 path (see docs/performance.md)
            """;

    private final java.io.InputStream in;
    private final PrintStream out;
    private final PrintStream err;

    Main(java.io.InputStream in, PrintStream out, PrintStream err) {
        this.in = in;
        this.out = out;
        this.err = err;
    }

    Main(PrintStream out, PrintStream err) {
        this(System.in, out, err);
    }

    public static void main(String[] argv) {
        System.exit(new Main(System.out, System.err).run(argv));
    }

    /** The option that switches Q4_0 decode to rounded activations, for the commands that load a model. */
    static final String ROUNDED_ACTIVATIONS = "rounded-activations";

    int run(String[] argv) {
        if (argv.length == 0 || argv[0].equals("help") || argv[0].equals("--help") || argv[0].equals("-h")) {
            out.print(USAGE);
            return argv.length == 0 ? 2 : 0;
        }
        try {
            return switch (argv[0]) {
                case "generate" -> {
                    Args args = new Args(argv, 1, Set.of("greedy", "think", "no-think", ROUNDED_ACTIVATIONS));
                    yield args.get("tokens") != null ? generate(args) : ChatCommands.generate(args, out, err);
                }
                case "chat" -> ChatCommands.chat(
                        new Args(argv, 1, Set.of("greedy", "think", "no-think", ROUNDED_ACTIVATIONS)), in, out, err);
                case "logits" -> logits(new Args(argv, 1, Set.of(ROUNDED_ACTIVATIONS)));
                case "tokenize" -> TokenizeCommands.tokenize(new Args(argv, 1, Set.of("jsonl", "no-special")), in, out);
                case "detokenize" -> TokenizeCommands.detokenize(new Args(argv, 1, Set.of("jsonl", "skip-special")),
                        in, out);
                case "quantize" -> quantize(new Args(argv, 1, Set.of()));
                case "render" -> render(new Args(argv, 1, Set.of()));
                case "synth" -> BenchCommands.synth(new Args(argv, 1, Set.of()), err);
                case "bench" -> bench(new Args(argv, 1, Set.of("json", ROUNDED_ACTIVATIONS)));
                default -> throw new Args.UsageException("unknown command '" + argv[0] + "'");
            };
        } catch (Args.UsageException e) {
            err.println("moe4j: " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (Moe4jException | IllegalArgumentException | dev.moe4j.tokenizer.TokenizerException e) {
            err.println("moe4j: " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("moe4j: I/O error: " + e.getMessage());
            return 1;
        }
    }

    private Model loadModel(Args args) {
        String threads = args.get("threads", args.get("t"));
        if (threads != null) {
            System.setProperty("moe4j.threads", threads);
        }
        Path path = ModelPaths.resolve(args.get("model"), err);
        Kernels kernels = Kernels.get(); // chooses (and may log about) the kernels before the progress line
        long start = System.nanoTime();
        err.print("loading " + path.getFileName() + " ... ");
        err.flush();
        boolean rounded = roundedActivations(args);
        Model model = Model.load(path, kernels, rounded);
        err.printf("done in %d ms (%s, %d layers, %s kernels, %d threads%s)%n", (System.nanoTime() - start) / 1_000_000,
                model.config().architecture(), model.config().numLayers(), kernels.provider().name(),
                kernels.parallel().threads(), rounded ? ", Q4_0 decode with rounded activations" : "");
        return model;
    }

    /** The option, or else the system property {@value GgufTensorSource#ROUNDED_ACTIVATIONS_PROPERTY}. */
    static boolean roundedActivations(Args args) {
        return args.flag(ROUNDED_ACTIVATIONS) || GgufTensorSource.roundedActivationsByDefault();
    }

    private int generate(Args args) throws IOException {
        int[] prompt = Args.parseTokenList(args.require("tokens"));
        int count = args.getInt("n", 32);
        if (count < 0) {
            throw new Args.UsageException("-n must be >= 0");
        }
        try (Model model = loadModel(args)) {
            KvCache cache = model.newKvCache(prompt.length + Math.max(count, 1), KvCache.DEFAULT_BLOCK_SIZE, 1);
            Scratch scratch = new Scratch(model.config());
            StringBuilder ids = new StringBuilder();
            long start = System.nanoTime();
            try (Sequence seq = cache.newSequence()) {
                float[] logits = model.forward(Batch.of(seq, prompt, false), scratch);
                for (int i = 0; i < count; i++) {
                    int next = argmax(logits);
                    ids.append(i == 0 ? "" : " ").append(next);
                    if (i + 1 < count) {
                        logits = model.forward(Batch.of(seq, new int[] {next}, false), scratch);
                    }
                }
            }
            out.println(ids);
            double seconds = (System.nanoTime() - start) / 1e9;
            err.printf("%d prompt + %d generated tokens in %.2f s%n", prompt.length, count, seconds);
        } catch (Exception e) {
            throw rethrow(e);
        }
        return 0;
    }

    private int logits(Args args) throws IOException {
        int[] tokens = Args.parseTokenList(args.require("tokens"));
        Path outPath = Path.of(args.require("out"));
        try (Model model = loadModel(args)) {
            KvCache cache = model.newKvCache(tokens.length, KvCache.DEFAULT_BLOCK_SIZE, 1);
            float[] logits;
            try (Sequence seq = cache.newSequence()) {
                logits = model.forward(Batch.of(seq, tokens, true), new Scratch(model.config()));
            }
            ByteBuffer buf = ByteBuffer.allocate(logits.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(logits);
            try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(outPath))) {
                o.write(buf.array());
            }
            err.printf("wrote %d × %d logits to %s%n", tokens.length, model.config().vocabSize(), outPath);
        } catch (Exception e) {
            throw rethrow(e);
        }
        return 0;
    }

    private int bench(Args args) {
        if (args.get("parallel") != null) {
            int n = args.getInt("parallel", 1);
            if (n < 1) {
                throw new Args.UsageException("--parallel must be >= 1, was " + n);
            }
            try (Engine engine = BenchCommands.parallelEngine(args, n, err)) {
                return BenchCommands.parallel(args, engine, n, out, err);
            } catch (Exception e) {
                throw rethrowUnchecked(e);
            }
        }
        try (Model model = loadModel(args)) {
            return BenchCommands.bench(args, model, out, err);
        } catch (Exception e) {
            throw rethrowUnchecked(e);
        }
    }

    private static RuntimeException rethrowUnchecked(Exception e) {
        return e instanceof RuntimeException re ? re : new IllegalStateException(e);
    }

    private int quantize(Args args) throws IOException {
        if (args.positionals().size() != 2) {
            throw new Args.UsageException("quantize takes IN.gguf OUT.gguf");
        }
        Path in = Path.of(args.positionals().get(0));
        Path outPath = Path.of(args.positionals().get(1));
        QuantType type;
        try {
            type = QuantType.parse(args.require("type"));
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("--type must be " + QuantType.names() + ", was '" + args.get("type") + "'");
        }
        if (in.toAbsolutePath().normalize().equals(outPath.toAbsolutePath().normalize())) {
            throw new Args.UsageException("OUT must differ from IN");
        }
        long start = System.nanoTime();
        GgufQuantizer.quantize(in, outPath, type, err::println);
        err.printf("wrote %s (%d bytes) in %.1f s%n", outPath, Files.size(outPath), (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private int render(Args args) throws IOException {
        return new RenderCommand(out).run(args);
    }

    private static RuntimeException rethrow(Exception e) throws IOException {
        if (e instanceof IOException io) {
            throw io;
        }
        if (e instanceof RuntimeException re) {
            return re;
        }
        return new IllegalStateException(e);
    }

    static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > row[best]) {
                best = i;
            }
        }
        return best;
    }
}
