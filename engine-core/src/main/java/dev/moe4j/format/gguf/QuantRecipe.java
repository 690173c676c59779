package dev.moe4j.format.gguf;

import dev.moe4j.kernels.DType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * llama.cpp's choice of type per tensor (llama-quant.cpp, without an importance matrix or overrides), for the
 * {@link QuantType}s moe4j writes: which tensors may be quantized at all, the Q4_K_M / Q5_K_M mix rules, and the
 * fallback for rows that are not whole blocks of the chosen type.
 */
public final class QuantRecipe {
    private QuantRecipe() {}

    /** Name fragments llama-quantize never quantizes (norms, routers, small conv and positional tensors). */
    private static final List<String> KEEP = List.of("_norm.weight", "ffn_gate_inp.weight",
            "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj", "ssm_conv1d",
            "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight", "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight",
            "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
            "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
            "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight",
            ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger",
            "a.rvq.codebook", "mm.a.code_embd");

    /** Where a block type goes when a row is not whole blocks of it (then F16 if still not whole blocks). */
    private static final Map<DType, DType> FALLBACK = Map.of(DType.Q4_K, DType.Q5_0, DType.Q5_K, DType.Q5_1,
            DType.Q6_K, DType.Q8_0);

    private enum Category { OUTPUT, TOKEN_EMBD, ATTN_V, ATTN_K, ATTN_Q, ATTN_OUTPUT, FFN_UP, FFN_GATE, FFN_DOWN, OTHER }

    /** When a mix rule applies, besides the tensor's category. */
    private enum When {
        ALWAYS,
        /** the token embedding doubles as the output head (no output.weight) */
        TIED,
        /** {@link #moreBits} of the tensor's layer */
        MORE_BITS,
        /** models with exactly 8 experts */
        EIGHT_EXPERTS,
        /** Q4_K_M of a model with exactly 8 experts */
        EIGHT_EXPERTS_Q4_K_M,
        /** llama.cpp's 70B model type, for a tensor the earlier rules left at Q4_K */
        SEVENTY_B_FROM_Q4_K
    }

    private record Rule(Category category, When when, DType type) {}

    /**
     * The Q4_K_M / Q5_K_M mix: starting from the base type, every rule that applies sets the type, in this order.
     * An output head whose rows are not whole 256-blocks gets Q8_0 through the width fallback.
     */
    private static final List<Rule> MIX = List.of(
            new Rule(Category.OUTPUT, When.ALWAYS, DType.Q6_K),
            new Rule(Category.TOKEN_EMBD, When.TIED, DType.Q6_K),
            new Rule(Category.ATTN_V, When.MORE_BITS, DType.Q6_K),
            new Rule(Category.ATTN_V, When.SEVENTY_B_FROM_Q4_K, DType.Q5_K),
            new Rule(Category.ATTN_V, When.EIGHT_EXPERTS, DType.Q8_0),
            new Rule(Category.ATTN_K, When.EIGHT_EXPERTS, DType.Q8_0),
            new Rule(Category.FFN_DOWN, When.MORE_BITS, DType.Q6_K),
            new Rule(Category.ATTN_OUTPUT, When.EIGHT_EXPERTS_Q4_K_M, DType.Q5_K));

    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");

    /** llama.cpp's tensor order: tensors outside blocks first, then by block number, by name within each. */
    public static final Comparator<String> ORDER = Comparator.<String>comparingInt(QuantRecipe::layerOf)
            .thenComparing(Comparator.naturalOrder());

    static int layerOf(String name) {
        Matcher m = LAYER.matcher(name);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** A tensor's name and its dimensions in GGML order (row width first). */
    public record Entry(String name, long[] dims) {
        static Entry of(GgufTensor t) {
            return new Entry(t.name(), t.dims());
        }
    }

    /**
     * The type of every tensor in {@code tensors} (in {@link #ORDER}, which the recipe's layer counters follow),
     * {@code null} for one kept as it is.
     *
     * @param blockCount the model's {@code block_count}
     * @param expertCount its {@code expert_count} (0 for dense models)
     * @param seventyB llama.cpp's 70B model type, which moves Q4_K attn_v matrices to Q5_K
     */
    public static Map<String, DType> plan(List<Entry> tensors, QuantType target, int blockCount, int expertCount,
            boolean seventyB) {
        int attnVTotal = 0;
        boolean tied = true;
        for (Entry t : tensors) {
            Category c = category(t.name());
            attnVTotal += c == Category.ATTN_V ? 1 : 0;
            tied &= c != Category.OUTPUT;
        }
        int attnV = 0;
        int ffnDown = 0;
        Map<String, DType> plan = new LinkedHashMap<>();
        for (Entry t : tensors) {
            if (!quantizable(t)) {
                plan.put(t.name(), null);
                continue;
            }
            long cols = t.dims()[0];
            DType type = target.base;
            Category c = category(t.name());
            if (target.mix) {
                boolean moreBits = false;
                if (c == Category.ATTN_V) {
                    moreBits = moreBits(attnV++, attnVTotal);
                } else if (c == Category.FFN_DOWN) {
                    // MoE files take the layer from the name (expert tensors need not be in layer order), dense
                    // ones count ffn_down tensors
                    int layer = expertCount > 1 ? layerOf(t.name()) : ffnDown;
                    if (expertCount > 1 && (layer < 0 || layer >= blockCount)) {
                        throw new IllegalArgumentException("cannot tell the layer of " + t.name());
                    }
                    moreBits = moreBits(layer, blockCount);
                    ffnDown++;
                }
                for (Rule rule : MIX) {
                    boolean applies = rule.category() == c && switch (rule.when()) {
                        case ALWAYS -> true;
                        case TIED -> tied;
                        case MORE_BITS -> moreBits;
                        case EIGHT_EXPERTS -> expertCount == 8;
                        case EIGHT_EXPERTS_Q4_K_M -> expertCount == 8 && target == QuantType.Q4_K_M;
                        case SEVENTY_B_FROM_Q4_K -> seventyB && type == DType.Q4_K;
                    };
                    type = applies ? rule.type() : type;
                }
            }
            if (cols % type.blockSize() != 0) {
                DType fallback = FALLBACK.get(type);
                if (fallback == null) {
                    // llama.cpp refuses these; moe4j has always left such a tensor as it is
                    plan.put(t.name(), null);
                    continue;
                }
                type = cols % fallback.blockSize() == 0 ? fallback : DType.F16;
            }
            plan.put(t.name(), type);
        }
        return plan;
    }

    /** The first and last eighth of the layers and every third one between. */
    static boolean moreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    static boolean quantizable(Entry t) {
        String name = t.name();
        if (!name.endsWith("weight")) {
            return false;
        }
        // GGML's rank ignores trailing 1s, so a [n, 1] tensor counts as a vector
        long[] dims = t.dims();
        int rank = 1;
        for (int i = 1; i < dims.length; i++) {
            rank = dims[i] > 1 ? i + 1 : rank;
        }
        if (rank < 2) {
            return false;
        }
        for (String keep : KEEP) {
            if (name.contains(keep)) {
                return false;
            }
        }
        return !name.equals("pos_embd.weight") && !name.equals("token_types.weight");
    }

    private static Category category(String name) {
        if (name.equals("output.weight")) {
            return Category.OUTPUT;
        }
        if (name.equals("token_embd.weight") || name.equals("per_layer_token_embd.weight")) {
            return Category.TOKEN_EMBD;
        }
        // fused QKV and MLA's kv_b count as attn_v, as in llama.cpp
        if (name.contains("attn_qkv.weight") || name.contains("attn_kv_b.weight") || name.contains("attn_v.weight")) {
            return Category.ATTN_V;
        }
        if (name.contains("attn_k.weight")) {
            return Category.ATTN_K;
        }
        if (name.contains("attn_q.weight")) {
            return Category.ATTN_Q;
        }
        if (name.contains("attn_output.weight")) {
            return Category.ATTN_OUTPUT;
        }
        if (name.contains("ffn_up")) {
            return Category.FFN_UP;
        }
        if (name.contains("ffn_gate")) {
            return Category.FFN_GATE;
        }
        return name.contains("ffn_down") ? Category.FFN_DOWN : Category.OTHER;
    }

    /** The tensors of a file in {@link #ORDER}. */
    static List<GgufTensor> ordered(Iterable<GgufTensor> tensors) {
        List<GgufTensor> list = new ArrayList<>();
        tensors.forEach(list::add);
        list.sort(Comparator.comparing(GgufTensor::name, ORDER));
        return list;
    }
}
