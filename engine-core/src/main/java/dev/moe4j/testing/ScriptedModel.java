package dev.moe4j.testing;

import dev.moe4j.format.gguf.GgmlType;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufMetadata;
import dev.moe4j.format.gguf.GgufTokenizer;
import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A one-layer Qwen3 GGUF whose greedy output is a chosen text: for tests that need a known answer (a tool call, a
 * thinking block, a stop string) from a real forward pass, without real weights.
 *
 * <p>Each {@link Script} says: after the tokens of {@code after} (the tail of a rendered prompt, e.g.
 * {@code "<|im_start|>assistant\n"}), emit the tokens of {@code say}, one per step. The model computes its next
 * token from the last {@code K + 1} tokens of its context, K the smallest window that tells every step apart:
 * <ul>
 *   <li>the embedding of each token the scripts use is a one-hot in a "current token" block plus a constant 1;</li>
 *   <li>attention head {@code o} (o = 1..K) attends to position {@code m − o} only: its query and key are constant
 *       (from the constant dimension, made unit by QK-norm) and their RoPE pairs carry a phase of {@code −o·θ_i}, so
 *       the score {@code Σ_i cos((m − n − o)·θ_i)} peaks at {@code n = m − o}, scaled so the peak wins the softmax
 *       by a margin of {@value #ATTENTION_MARGIN} nats over every other position up to the context length; its
 *       value copies that token's one-hot into a block of its own;</li>
 *   <li>one FFN unit per step fires (SiLU of a large positive gate) only when all K + 1 one-hots match its context,
 *       and writes a one-hot of its next token, which the output head turns into a logit far above all others.</li>
 * </ul>
 * Tokens outside the scripts embed to the constant alone, so a context the scripts never saw gives near-equal
 * logits. Sampling at any usual temperature also yields the script: its token's probability is within 1e-30 of 1.
 */
public final class ScriptedModel {

    /** After the tokens of {@code after}, the model says {@code say}. Both may contain special tokens. */
    public record Script(String after, String say) {
        public Script {
            if (after == null || say == null || say.isEmpty()) {
                throw new IllegalArgumentException("a script needs its preceding text and a non-empty text to say");
            }
        }
    }

    /** Softmax logit gap of the attended position over any other. */
    static final double ATTENTION_MARGIN = 40;
    private static final int HEAD_DIM = 128;
    private static final float ROPE_BASE = 10000f;
    private static final int MAX_WINDOW = 16;
    private static final int CONTEXT = 4096;
    /** Gate scale: SiLU of −GATE·b/2 is below 1e-15 of its firing value for the norms met here. */
    private static final float GATE = 12f;
    /** The output head's gain on the next-token one-hot. */
    private static final float HEAD = 40f;
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private ScriptedModel() {}

    /**
     * Writes the model to {@code out}, with the tokenizer (and chat template) of {@code vocabulary}, a GGUF such as
     * the bundled demo model.
     *
     * @throws IllegalArgumentException when two steps have the same context within {@value #MAX_WINDOW} tokens but
     *     different next tokens, or the scripts use more than {@value #HEAD_DIM} distinct tokens
     * @throws UncheckedIOException when a file cannot be read or written
     */
    public static void write(Path vocabulary, Path out, List<Script> scripts) {
        if (scripts.isEmpty()) {
            throw new IllegalArgumentException("no scripts");
        }
        try (GgufFile source = GgufFile.open(vocabulary)) {
            Tokenizer tokenizer = GgufTokenizer.fromMetadata(source);
            GgufMetadata md = source.metadata();
            List<int[]> befores = new ArrayList<>();
            List<int[]> says = new ArrayList<>();
            for (Script s : scripts) {
                befores.add(tokenizer.encode(s.after(), true));
                says.add(tokenizer.encode(s.say(), true));
            }
            write(md, tokenizer.vocabSize(), befores, says, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One step: the context tokens (index 0 the current token, then 1, 2, ... back; −1 unknown) and the next. */
    private record Step(int[] context, int next) {}

    private static void write(GgufMetadata vocabMd, int vocab, List<int[]> befores, List<int[]> says, Path out)
            throws IOException {
        int window = -1;
        List<Step> steps = null;
        for (int k = 1; k <= MAX_WINDOW && steps == null; k++) {
            steps = steps(befores, says, k);
            window = k;
        }
        if (steps == null) {
            throw new IllegalArgumentException("the scripts repeat a context of " + (MAX_WINDOW + 1)
                    + " tokens with different next tokens; make them differ sooner");
        }
        Map<Integer, Integer> slot = new LinkedHashMap<>();
        for (Step s : steps) {
            for (int t : s.context()) {
                if (t >= 0) {
                    slot.putIfAbsent(t, slot.size());
                }
            }
            slot.putIfAbsent(s.next(), slot.size());
        }
        int symbols = slot.size();
        if (symbols > HEAD_DIM) {
            throw new IllegalArgumentException("the scripts use " + symbols + " distinct tokens, at most " + HEAD_DIM);
        }
        int heads = window;
        // hidden: [constant][current][back 1]..[back K][next], each block one slot per symbol
        int dim = roundUp(1 + (window + 2) * symbols, 64);
        int units = roundUp(steps.size(), 32);
        int nextBlock = 1 + (window + 1) * symbols;

        GgufWriter w = new GgufWriter();
        String a = "qwen3";
        w.putString("general.architecture", a);
        w.putString("general.name", "scripted-test-model");
        w.putU32(a + ".context_length", CONTEXT);
        w.putU32(a + ".embedding_length", dim);
        w.putU32(a + ".block_count", 1);
        w.putU32(a + ".feed_forward_length", units);
        w.putU32(a + ".attention.head_count", heads);
        w.putU32(a + ".attention.head_count_kv", heads);
        w.putU32(a + ".attention.key_length", HEAD_DIM);
        w.putU32(a + ".attention.value_length", HEAD_DIM);
        w.putF32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
        w.putF32(a + ".rope.freq_base", ROPE_BASE);
        w.putU32("general.file_type", 0);
        for (String key : vocabMd.asMap().keySet()) {
            if (key.startsWith("tokenizer.")) {
                int[] t = vocabMd.typeOf(key);
                w.put(key, t[0], t.length > 1 ? t[1] : -1, vocabMd.get(key));
            }
        }

        try (Arena arena = Arena.ofConfined()) {
            float[][] embed = new float[vocab][dim];
            for (float[] row : embed) {
                row[0] = 1f;
            }
            slot.forEach((token, s) -> embed[token][1 + s] = 1f);
            add(w, arena, "token_embd.weight", embed);

            // the attention norm's output: a script token's x is two 1s, so each becomes sqrt(dim / 2)
            double normed = Math.sqrt(dim / 2.0);
            float[][] q = new float[heads * HEAD_DIM][dim];
            float[][] k = new float[heads * HEAD_DIM][dim];
            float[][] v = new float[heads * HEAD_DIM][dim];
            float[][] o = new float[dim][heads * HEAD_DIM];
            int pairs = HEAD_DIM / 2;
            for (int h = 0; h < heads; h++) {
                int back = h + 1;
                for (int i = 0; i < pairs; i++) {
                    double phase = -back * Math.pow(ROPE_BASE, -2.0 * i / HEAD_DIM);
                    q[h * HEAD_DIM + i][0] = (float) Math.cos(phase);
                    q[h * HEAD_DIM + i + pairs][0] = (float) Math.sin(phase);
                    k[h * HEAD_DIM + i][0] = 1f;
                }
                for (int s = 0; s < symbols; s++) {
                    v[h * HEAD_DIM + s][1 + s] = 1f;
                    o[1 + back * symbols + s][h * HEAD_DIM + s] = (float) (1 / normed);
                }
            }
            // after QK-norm each pair has length sqrt(2) times the norm weight g, so a score is
            // g² · 2 · Σ_i cos((m − n − back)·θ_i) / sqrt(HEAD_DIM)
            double gain = Math.sqrt(ATTENTION_MARGIN * Math.sqrt(HEAD_DIM) / (2 * minimumGap(pairs)));
            float[] qkNorm = new float[HEAD_DIM];
            Arrays.fill(qkNorm, (float) gain);
            add(w, arena, "blk.0.attn_q.weight", q);
            add(w, arena, "blk.0.attn_k.weight", k);
            add(w, arena, "blk.0.attn_v.weight", v);
            add(w, arena, "blk.0.attn_output.weight", o);
            add(w, arena, "blk.0.attn_q_norm.weight", qkNorm);
            add(w, arena, "blk.0.attn_k_norm.weight", qkNorm);
            add(w, arena, "blk.0.attn_norm.weight", ones(dim));

            // FFN input: every block holds 1 where its token is a script token, so after the norm each such entry
            // equals the constant's; the gate counts matches minus (known − ½), times GATE
            float[][] gate = new float[units][dim];
            float[][] up = new float[units][dim];
            float[][] down = new float[dim][units];
            for (int u = 0; u < steps.size(); u++) {
                Step s = steps.get(u);
                int known = 0;
                for (int j = 0; j < s.context().length; j++) {
                    if (s.context()[j] >= 0) {
                        gate[u][1 + j * symbols + slot.get(s.context()[j])] = GATE;
                        known++;
                    }
                }
                gate[u][0] = -GATE * (known - 0.5f);
                up[u][0] = 1f;
                // a firing unit gives about (GATE / 2)·b·b for b the normed entry: its next token's entry is 1 or so
                double b = Math.sqrt(dim / (double) (window + 2));
                down[nextBlock + slot.get(s.next())][u] = (float) (1 / (GATE / 2 * b * b));
            }
            add(w, arena, "blk.0.ffn_gate.weight", gate);
            add(w, arena, "blk.0.ffn_up.weight", up);
            add(w, arena, "blk.0.ffn_down.weight", down);
            add(w, arena, "blk.0.ffn_norm.weight", ones(dim));
            add(w, arena, "output_norm.weight", ones(dim));

            float[][] head = new float[vocab][dim];
            slot.forEach((token, s) -> head[token][nextBlock + s] = HEAD);
            add(w, arena, "output.weight", head);
            w.write(out);
        }
    }

    /**
     * The steps of every script with a context window of {@code window} tokens back, or null if two steps share a
     * context but not the next token.
     */
    private static List<Step> steps(List<int[]> befores, List<int[]> says, int window) {
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < says.size(); i++) {
            int[] before = befores.get(i);
            int[] say = says.get(i);
            int[] all = new int[before.length + say.length];
            System.arraycopy(before, 0, all, 0, before.length);
            System.arraycopy(say, 0, all, before.length, say.length);
            for (int p = before.length; p < all.length; p++) {
                int[] context = new int[window + 1];
                for (int j = 0; j <= window; j++) {
                    context[j] = p - 1 - j >= 0 ? all[p - 1 - j] : -1; // before the script's text: unknown
                }
                Step step = new Step(context, all[p]);
                for (Step other : steps) {
                    if (compatible(other.context(), context)) {
                        if (other.next() != step.next()) {
                            return null;
                        }
                    }
                }
                steps.add(step);
            }
        }
        return steps;
    }

    /** Whether some real context matches both: they agree wherever both are known. */
    private static boolean compatible(int[] a, int[] b) {
        for (int j = 0; j < a.length; j++) {
            if (a[j] >= 0 && b[j] >= 0 && a[j] != b[j]) {
                return false;
            }
        }
        return true;
    }

    /** min over offsets 1 ≤ |d| < CONTEXT of Σ_i (1 − cos(d·θ_i)): the score's drop off its peak, per unit gain. */
    private static double minimumGap(int pairs) {
        double min = Double.MAX_VALUE;
        for (int d = 1; d < CONTEXT; d++) {
            double gap = 0;
            for (int i = 0; i < pairs; i++) {
                gap += 1 - Math.cos(d * Math.pow(ROPE_BASE, -2.0 * i / HEAD_DIM));
            }
            min = Math.min(min, gap);
        }
        return min;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return v;
    }

    private static int roundUp(int n, int m) {
        return (n + m - 1) / m * m;
    }

    private static void add(GgufWriter w, Arena arena, String name, float[] values) {
        MemorySegment seg = arena.allocate(4L * values.length);
        MemorySegment.copy(values, 0, seg, LE_FLOAT, 0, values.length);
        w.addTensor(name, GgmlType.F32, new long[] {values.length}, seg);
    }

    private static void add(GgufWriter w, Arena arena, String name, float[][] rows) {
        int cols = rows[0].length;
        MemorySegment seg = arena.allocate(4L * cols * rows.length);
        for (int r = 0; r < rows.length; r++) {
            MemorySegment.copy(rows[r], 0, seg, LE_FLOAT, 4L * r * cols, cols);
        }
        w.addTensor(name, GgmlType.F32, new long[] {cols, rows.length}, seg);
    }
}
