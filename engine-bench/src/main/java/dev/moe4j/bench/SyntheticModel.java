package dev.moe4j.bench;

import dev.moe4j.format.gguf.GgmlType;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufMetadata;
import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.format.gguf.QuantRecipe;
import dev.moe4j.format.gguf.QuantType;
import dev.moe4j.kernels.DType;
import dev.moe4j.kernels.parallel.Parallel;
import dev.moe4j.kernels.quant.BlockQuantizer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * GGUF files with random weights at the shapes of real Qwen3 models (qwen3-spec §3), for speed work: the same
 * tensor names, shapes and metadata keys that llama.cpp's converter writes, so llama.cpp loads them too.
 */
public final class SyntheticModel {

    /** A real model's shape. {@code experts == 0} means dense; {@code hybrid} is null unless some layers are linear. */
    public record Shape(String name, String arch, int hidden, int ffn, int layers, int heads, int kvHeads,
                        int headDim, int vocab, int experts, int expertsUsed, int expertFfn, boolean tied,
                        Hybrid hybrid) {
        Shape(String name, String arch, int hidden, int ffn, int layers, int heads, int kvHeads, int headDim,
              int vocab, int experts, int expertsUsed, int expertFfn, boolean tied) {
            this(name, arch, hidden, ffn, layers, heads, kvHeads, headDim, vocab, experts, expertsUsed, expertFfn,
                    tied, null);
        }
    }

    /**
     * Qwen3-Next's extras: the shared expert's width, the Gated DeltaNet layers ({@code keyHeads} q/k heads and
     * {@code valueHeads} v heads of {@code headDim}, a convolution of {@code convKernel} taps), every
     * {@code interval}-th layer gated attention with {@code ropeDims} rotated dims.
     */
    public record Hybrid(int sharedFfn, int keyHeads, int valueHeads, int headDim, int convKernel, int interval,
                         int ropeDims) {}

    public static final Map<String, Shape> SHAPES = Map.of(
            "qwen3-0.6b", new Shape("qwen3-0.6b", "qwen3", 1024, 3072, 28, 16, 8, 128, 151936, 0, 0, 0, true),
            "qwen3-4b", new Shape("qwen3-4b", "qwen3", 2560, 9728, 36, 32, 8, 128, 151936, 0, 0, 0, true),
            "qwen3-30b-a3b", new Shape("qwen3-30b-a3b", "qwen3moe", 2048, 6144, 48, 32, 4, 128, 151936, 128, 8, 768,
                    false),
            // Qwen3-Next-80B-A3B's config.json: 16 q / 2 kv heads of 256, 512 experts top-10, linear 16 / 32 heads
            "qwen3-next-80b-a3b", new Shape("qwen3-next-80b-a3b", "qwen3next", 2048, 5120, 48, 16, 2, 256, 151936,
                    512, 10, 512, false, new Hybrid(512, 16, 32, 128, 4, 4, 64)));

    private SyntheticModel() {}

    public static Shape shape(String name) {
        Shape s = SHAPES.get(name.toLowerCase(Locale.ROOT));
        if (s == null) {
            throw new IllegalArgumentException("unknown shape '" + name + "' (known: "
                    + String.join(", ", SHAPES.keySet().stream().sorted().toList()) + ")");
        }
        return s;
    }

    /**
     * Writes the model. {@code layers} ≤ the shape's layer count cuts the stack; {@code vocabGguf}, when given,
     * supplies the tokenizer metadata (e.g. a vocab-only Qwen3 GGUF); otherwise a byte-level placeholder
     * vocabulary is written.
     */
    public static void write(Shape shape, int layers, DType type, Path vocabGguf, Path out, long seed,
                             Consumer<String> progress) throws IOException {
        if (type != DType.F32 && type != DType.BF16 && type != DType.F16 && type != DType.Q8_0 && type != DType.Q4_0) {
            throw new IllegalArgumentException("synthetic models are F32, F16, BF16, Q8_0 or Q4_0, not " + type);
        }
        write(shape, layers, type, null, vocabGguf, out, seed, progress);
    }

    /**
     * As {@link #write(Shape, int, DType, Path, Path, long, Consumer)}, with the weights drawn in F32 and each
     * matrix quantized to the type llama-quantize would give it for {@code target} (a pure type or a mix).
     */
    public static void write(Shape shape, int layers, QuantType target, Path vocabGguf, Path out, long seed,
                             Consumer<String> progress) throws IOException {
        write(shape, layers, DType.F32, target, vocabGguf, out, seed, progress, false);
    }

    /**
     * As {@link #write(Shape, int, QuantType, Path, Path, long, Consumer)}, but each quantized matrix is made of
     * random bits with scales of a sane size instead of quantized draws: the same types, shapes and bytes per weight,
     * as fast as the file can be written (the K-quant search is the slow part of a synth). For speed files only: the
     * weights are not a quantization of anything.
     */
    public static void writeRandomBlocks(Shape shape, int layers, QuantType target, Path vocabGguf, Path out,
                                         long seed, Consumer<String> progress) throws IOException {
        write(shape, layers, DType.F32, target, vocabGguf, out, seed, progress, true);
    }

    private static void write(Shape shape, int layers, DType type, QuantType target, Path vocabGguf, Path out,
                              long seed, Consumer<String> progress) throws IOException {
        write(shape, layers, type, target, vocabGguf, out, seed, progress, false);
    }

    private static void write(Shape shape, int layers, DType type, QuantType target, Path vocabGguf, Path out,
                              long seed, Consumer<String> progress, boolean randomBlocks) throws IOException {
        if (layers < 1 || layers > shape.layers()) {
            throw new IllegalArgumentException("--layers must be in [1, " + shape.layers() + "], was " + layers);
        }
        String a = shape.arch();
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", a);
        w.putString("general.name", "synthetic-" + shape.name() + "-" + layers + "L-random");
        w.putU32(a + ".context_length", 40960);
        w.putU32(a + ".embedding_length", shape.hidden());
        w.putU32(a + ".block_count", layers);
        w.putU32(a + ".feed_forward_length", shape.ffn());
        w.putU32(a + ".attention.head_count", shape.heads());
        w.putU32(a + ".attention.head_count_kv", shape.kvHeads());
        w.putU32(a + ".attention.key_length", shape.headDim());
        w.putU32(a + ".attention.value_length", shape.headDim());
        w.putF32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
        w.putF32(a + ".rope.freq_base", 1e6f);
        if (shape.experts() > 0) {
            w.putU32(a + ".expert_count", shape.experts());
            w.putU32(a + ".expert_used_count", shape.expertsUsed());
            w.putU32(a + ".expert_feed_forward_length", shape.expertFfn());
        }
        Hybrid h = shape.hybrid();
        if (h != null) {
            w.putU32(a + ".expert_shared_feed_forward_length", h.sharedFfn());
            w.putU32(a + ".ssm.conv_kernel", h.convKernel());
            w.putU32(a + ".ssm.state_size", h.headDim());
            w.putU32(a + ".ssm.group_count", h.keyHeads());
            w.putU32(a + ".ssm.time_step_rank", h.valueHeads());
            w.putU32(a + ".ssm.inner_size", h.valueHeads() * h.headDim());
            w.putU32(a + ".full_attention_interval", h.interval());
            w.putU32(a + ".rope.dimension_count", h.ropeDims());
        }
        w.putU32("general.file_type", target != null ? target.fileType : switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            default -> 32; // BF16
        });
        w.putU32("general.quantization_version", 2);
        putVocabulary(w, shape.vocab(), vocabGguf);

        Map<String, DType> plan = null;
        if (target != null) {
            // a dry pass names every tensor, because the recipe counts attn_v and ffn_down tensors in file order
            Generator names = new Generator(null, null, seed, progress, null);
            tensors(names, shape, layers, type);
            List<QuantRecipe.Entry> entries = new ArrayList<>(names.declared);
            entries.sort(Comparator.comparing(QuantRecipe.Entry::name, QuantRecipe.ORDER));
            plan = QuantRecipe.plan(entries, target, layers, shape.experts(), false);
        }
        try (Arena arena = Arena.ofShared()) {
            Generator generator = new Generator(w, arena, seed, progress, plan);
            generator.randomBlocks = randomBlocks;
            tensors(generator, shape, layers, type);
            progress.accept("writing " + out);
            w.write(out);
        }
    }

    private static void tensors(Generator g, Shape shape, int layers, DType type) {
        Hybrid h = shape.hybrid();
        int d = shape.hidden();
        int q = shape.heads() * shape.headDim();
        int kv = shape.kvHeads() * shape.headDim();
        g.matrix("token_embd.weight", shape.vocab(), d, type);
        if (!shape.tied()) {
            g.matrix("output.weight", shape.vocab(), d, type);
        }
        g.norm("output_norm.weight", d);
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            g.norm(p + "attn_norm.weight", d);
            if (h == null) {
                attention(g, p, shape, q, kv, type);
                g.norm(p + "ffn_norm.weight", d);
            } else {
                if ((l + 1) % h.interval() == 0) {
                    attention(g, p, shape, 2 * q, kv, type); // per head: query rows, then gate rows
                } else {
                    int channels = 2 * h.keyHeads() * h.headDim() + h.valueHeads() * h.headDim();
                    int inner = h.valueHeads() * h.headDim();
                    g.matrix(p + "attn_qkv.weight", channels, d, type);
                    g.matrix(p + "attn_gate.weight", inner, d, type);
                    g.matrix(p + "ssm_ba.weight", 2 * h.valueHeads(), d, type);
                    g.matrix(p + "ssm_conv1d.weight", channels, h.convKernel(), DType.F32);
                    g.vector(p + "ssm_dt.bias", h.valueHeads(), 0f);
                    g.vector(p + "ssm_a", h.valueHeads(), -1f); // −exp(A_log) with A_log = 0
                    g.norm(p + "ssm_norm.weight", h.headDim());
                    g.matrix(p + "ssm_out.weight", d, inner, type);
                }
                g.norm(p + "post_attention_norm.weight", d);
            }
            if (shape.experts() > 0) {
                g.matrix(p + "ffn_gate_inp.weight", shape.experts(), d, DType.F32);
                g.experts(p + "ffn_gate_exps.weight", shape.experts(), shape.expertFfn(), d, type);
                g.experts(p + "ffn_up_exps.weight", shape.experts(), shape.expertFfn(), d, type);
                g.experts(p + "ffn_down_exps.weight", shape.experts(), d, shape.expertFfn(), type);
                if (h != null) {
                    g.vector(p + "ffn_gate_inp_shexp.weight", d, 0f);
                    g.matrix(p + "ffn_gate_shexp.weight", h.sharedFfn(), d, type);
                    g.matrix(p + "ffn_up_shexp.weight", h.sharedFfn(), d, type);
                    g.matrix(p + "ffn_down_shexp.weight", d, h.sharedFfn(), type);
                }
            } else {
                g.matrix(p + "ffn_gate.weight", shape.ffn(), d, type);
                g.matrix(p + "ffn_up.weight", shape.ffn(), d, type);
                g.matrix(p + "ffn_down.weight", d, shape.ffn(), type);
            }
        }
    }

    /** A softmax-attention block; {@code qRows} is the query projection's height (twice q with an output gate). */
    private static void attention(Generator g, String p, Shape shape, int qRows, int kv, DType type) {
        int d = shape.hidden();
        g.matrix(p + "attn_q.weight", qRows, d, type);
        g.matrix(p + "attn_k.weight", kv, d, type);
        g.matrix(p + "attn_v.weight", kv, d, type);
        g.matrix(p + "attn_output.weight", d, shape.heads() * shape.headDim(), type);
        g.norm(p + "attn_q_norm.weight", shape.headDim());
        g.norm(p + "attn_k_norm.weight", shape.headDim());
    }

    private static void putVocabulary(GgufWriter w, int vocab, Path vocabGguf) {
        if (vocabGguf != null) {
            try (GgufFile v = GgufFile.open(vocabGguf)) {
                GgufMetadata md = v.metadata();
                for (String key : md.asMap().keySet()) {
                    if (key.startsWith("tokenizer.")) {
                        int[] t = md.typeOf(key);
                        w.put(key, t[0], t.length > 1 ? t[1] : -1, md.get(key));
                    }
                }
                String[] tokens = md.getStringArray("tokenizer.ggml.tokens");
                if (tokens.length != vocab) {
                    throw new IllegalArgumentException(vocabGguf + " has " + tokens.length + " tokens, the shape needs " + vocab);
                }
            }
            return;
        }
        // placeholder: the 256 byte tokens in GPT-2's printable mapping, then padding; eos/bos at Qwen3's ids
        String[] tokens = new String[vocab];
        int[] types = new int[vocab];
        for (int i = 0; i < vocab; i++) {
            tokens[i] = i < 256 ? byteToken(i) : "[PAD" + i + "]";
            types[i] = i < 256 ? 1 : 5; // NORMAL, UNUSED
        }
        w.put("tokenizer.ggml.model", GgufMetadata.STRING, -1, "gpt2");
        w.put("tokenizer.ggml.pre", GgufMetadata.STRING, -1, "qwen2");
        w.put("tokenizer.ggml.tokens", GgufMetadata.ARRAY, GgufMetadata.STRING, tokens);
        w.put("tokenizer.ggml.token_type", GgufMetadata.ARRAY, GgufMetadata.INT32, types);
        w.put("tokenizer.ggml.merges", GgufMetadata.ARRAY, GgufMetadata.STRING, new String[] {"Ġ Ġ"});
        w.putU32("tokenizer.ggml.eos_token_id", Math.min(151645, vocab - 1));
        w.putU32("tokenizer.ggml.bos_token_id", Math.min(151643, vocab - 1));
        w.putU32("tokenizer.ggml.padding_token_id", Math.min(151643, vocab - 1));
        w.putBool("tokenizer.ggml.add_bos_token", false);
    }

    /** GPT-2's byte-to-printable-character map. */
    private static String byteToken(int b) {
        boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (printable) {
            return String.valueOf((char) b);
        }
        int n = 0;
        for (int i = 0; i < b; i++) {
            boolean p = (i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF);
            n += p ? 0 : 1;
        }
        return String.valueOf((char) (256 + n));
    }

    /** Fills tensors with uniform random values of a sane scale, quantised into the requested type. */
    private static final class Generator {
        private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private final GgufWriter w;
        private final Arena arena;
        private final long seed;
        private final Consumer<String> progress;
        /** Per matrix the type to write instead of the requested one ({@code null} entries: as requested). */
        private final Map<String, DType> plan;
        /** Quantized matrices as random bits with sane scales ({@link #writeRandomBlocks}). */
        boolean randomBlocks;
        /** Without a writer, the matrices named so far and nothing generated. */
        final List<QuantRecipe.Entry> declared = new ArrayList<>();
        private int tensorIndex;

        Generator(GgufWriter w, Arena arena, long seed, Consumer<String> progress, Map<String, DType> plan) {
            this.w = w;
            this.arena = arena;
            this.seed = seed;
            this.progress = progress;
            this.plan = plan;
        }

        private DType typeOf(String name, DType requested) {
            DType planned = plan == null ? null : plan.get(name);
            return planned != null ? planned : requested;
        }

        void norm(String name, int n) {
            vector(name, n, 1f);
        }

        void vector(String name, int n, float value) {
            if (w == null) {
                declared.add(new QuantRecipe.Entry(name, new long[] {n}));
                return;
            }
            MemorySegment seg = arena.allocate(4L * n);
            for (int i = 0; i < n; i++) {
                seg.set(LE_FLOAT, 4L * i, value);
            }
            w.addTensor(name, GgmlType.F32, new long[] {n}, seg);
        }

        void matrix(String name, int rows, int cols, DType requested) {
            if (w == null) {
                declared.add(new QuantRecipe.Entry(name, new long[] {cols, rows}));
                return;
            }
            DType type = typeOf(name, requested);
            long tensorSeed = nextSeed();
            w.addTensor(name, GgmlType.valueOf(type.name()), new long[] {cols, rows}, type.bytesFor(cols) * rows,
                    a -> {
                        progress.accept("generating " + name + " [" + rows + "][" + cols + "] " + type);
                        return fill(a, tensorSeed, rows, cols, type, randomBlocks);
                    });
        }

        void experts(String name, int experts, int rows, int cols, DType requested) {
            if (w == null) {
                declared.add(new QuantRecipe.Entry(name, new long[] {cols, rows, experts}));
                return;
            }
            DType type = typeOf(name, requested);
            long tensorSeed = nextSeed();
            w.addTensor(name, GgmlType.valueOf(type.name()), new long[] {cols, rows, experts},
                    type.bytesFor(cols) * rows * experts, a -> {
                        progress.accept("generating " + name + " [" + experts + "][" + rows + "][" + cols + "] " + type);
                        return fill(a, tensorSeed, experts * rows, cols, type, randomBlocks);
                    });
        }

        /** Each matrix's seed, in declaration order: the same values whenever the tensor is made. */
        private long nextSeed() {
            return seed * 0x9E3779B97F4A7C15L + (++tensorIndex);
        }

        private static MemorySegment fill(Arena arena, long tensorSeed, int rows, int cols, DType type,
                                          boolean randomBlocks) {
            long rowBytes = type.bytesFor(cols);
            MemorySegment seg = arena.allocate(rowBytes * rows, 64);
            long[] scales = randomBlocks ? scaleOffsets(type) : null;
            if (scales != null) {
                // weights of about 1/sqrt(cols), as the drawn ones: a scale times quants of tens to hundreds
                short half = Float.floatToFloat16((float) (1.0 / Math.sqrt(cols) / 256));
                int blockBytes = type.blockBytes();
                Parallel.common().forRange(rows, 16, (start, end) -> {
                    byte[] row = new byte[(int) rowBytes];
                    for (int r = start; r < end; r++) {
                        long state = mix(tensorSeed ^ (r * 0xBF58476D1CE4E5B9L));
                        for (int i = 0; i < row.length; i += 8) {
                            state = mix(state);
                            for (int k = 0; k < 8 && i + k < row.length; k++) {
                                row[i + k] = (byte) (state >>> 8 * k);
                            }
                        }
                        for (int b = 0; b < row.length / blockBytes; b++) {
                            for (long o : scales) {
                                int at = (int) (b * blockBytes + o);
                                row[at] = (byte) half;
                                row[at + 1] = (byte) (half >>> 8);
                            }
                        }
                        MemorySegment.copy(row, 0, seg, ValueLayout.JAVA_BYTE, r * rowBytes, row.length);
                    }
                });
                return seg;
            }
            float scale = (float) (1.0 / Math.sqrt(cols));
            Parallel.common().forRange(rows, 16, (start, end) -> {
                float[] row = new float[cols];
                for (int r = start; r < end; r++) {
                    long state = mix(tensorSeed ^ (r * 0xBF58476D1CE4E5B9L));
                    for (int c = 0; c < cols; c++) {
                        state = mix(state);
                        row[c] = ((state >>> 40) / (float) (1 << 24) * 2f - 1f) * scale;
                    }
                    write(row, seg, r * rowBytes, type);
                }
            });
            return seg;
        }

        private static void write(float[] row, MemorySegment seg, long off, DType type) {
            switch (type) {
                case F32 -> MemorySegment.copy(row, 0, seg, LE_FLOAT, off, row.length);
                case F16 -> {
                    for (int c = 0; c < row.length; c++) {
                        seg.set(LE_SHORT, off + 2L * c, Float.floatToFloat16(row[c]));
                    }
                }
                case BF16 -> {
                    for (int c = 0; c < row.length; c++) {
                        int bits = Float.floatToRawIntBits(row[c]);
                        bits += 0x7FFF + ((bits >>> 16) & 1); // round to nearest even (finite values only)
                        seg.set(LE_SHORT, off + 2L * c, (short) (bits >>> 16));
                    }
                }
                default -> {
                    BlockQuantizer q = BlockQuantizer.of(type);
                    for (int b = 0; b < row.length / type.blockSize(); b++) {
                        q.quantize(row, b * type.blockSize(), seg, off + (long) b * type.blockBytes());
                    }
                }
            }
        }

        /** Byte offsets of a block's f16 scales, or null for types drawn as floats. */
        private static long[] scaleOffsets(DType type) {
            return switch (type) {
                case Q8_0, Q4_0, Q5_0, IQ4_NL, IQ4_XS -> new long[] {0};
                case Q4_1, Q5_1, Q4_K, Q5_K -> new long[] {0, 2};
                case Q6_K -> new long[] {208};
                case Q2_K -> new long[] {80, 82};
                case Q3_K -> new long[] {108};
                default -> null;
            };
        }

        private static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31) ^ 0x9E3779B97F4A7C15L;
        }
    }
}
