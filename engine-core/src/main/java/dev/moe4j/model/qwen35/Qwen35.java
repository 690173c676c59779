package dev.moe4j.model.qwen35;

import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.format.gguf.GgufMetadata;
import dev.moe4j.kernels.Matrix;
import dev.moe4j.model.Architecture;
import dev.moe4j.model.Blocks;
import dev.moe4j.model.ConfigKeys;
import dev.moe4j.model.HybridHuggingFaceView;
import dev.moe4j.model.JsonConfig;
import dev.moe4j.model.ModelConfig;
import dev.moe4j.model.SafetensorsTensorSource;
import dev.moe4j.model.TensorName;
import dev.moe4j.model.TensorSource;
import dev.moe4j.model.Weights;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Qwen3.5, dense ({@code qwen35}) and MoE ({@code qwen35moe}): Qwen3-Next's layers with separate beta and decay
 * projections (ssm_beta, ssm_alpha), value heads in tiled order in GGUF (value head j reads key head j mod nk), a
 * dense SwiGLU or the shared-expert MoE, and multi-section rotary, which for text positions is Qwen3-Next's partial
 * rotary when the sections cover every rotated pair (files where they do not are refused: llama.cpp and Hugging Face
 * compute different things for them).
 *
 * <p>Hugging Face checkpoints differ from GGUF in: RMSNorm weights stored zero-centred (the norm multiplies by
 * 1 + w; all but linear_attn.norm), A_log in place of ssm_a = −exp(A_log), conv1d [channels, 1, kernel], value
 * heads in grouped order (value head j reads key head j div (nv/nk); the converter permutes every value-head-indexed
 * tensor into GGUF's tiled order; nothing is copied or permuted here, only the key head each value head reads differs,
 * so ssm_out sums its inputs in another order than from GGUF and the two agree to rounding, not bit for bit), and
 * the MoE's experts fused into mlp.experts.gate_up_proj [E, 2F, H] (gate rows, then up rows) and
 * mlp.experts.down_proj [E, H, F], sliced here into per-expert views. Multimodal checkpoints keep these keys in
 * config.json's text_config and the weights under model.language_model.; their vision tower is not loaded.
 */
public final class Qwen35 implements Architecture {
    private final boolean moe;

    public Qwen35(boolean moe) {
        this.moe = moe;
    }

    @Override
    public String name() {
        return moe ? "qwen35moe" : "qwen35";
    }

    @Override
    public Set<String> huggingFaceModelTypes() {
        return moe ? Set.of("qwen3_5_moe_text", "qwen3_5_moe") : Set.of("qwen3_5_text", "qwen3_5");
    }

    @Override
    public Set<String> huggingFaceClasses() {
        return moe ? Set.of("Qwen3_5MoeForCausalLM", "Qwen3_5MoeForConditionalGeneration")
                : Set.of("Qwen3_5ForCausalLM", "Qwen3_5ForConditionalGeneration");
    }

    @Override
    public ModelConfig config(GgufMetadata md, int vocabSize, boolean tied) {
        String a = name();
        ModelConfig base;
        if (moe) {
            base = ConfigKeys.gguf(md, a, vocabSize, tied, 0, ConfigKeys.sharedExpertMoe(md, a));
        } else {
            base = ConfigKeys.gguf(md, a, vocabSize, tied, md.getInt(ConfigKeys.INTERMEDIATE_SIZE.gguf(a), 1), null);
        }
        int ropeDims = md.getInt(ConfigKeys.ROPE_DIMS.gguf(a), 2);
        checkSectionsCoverEveryPair(md.getIntArray(ConfigKeys.ROPE_SECTIONS.gguf(a)), ropeDims,
                ConfigKeys.ROPE_SECTIONS.gguf(a));
        return base.withHybrid(ropeDims, ConfigKeys.linearAttention(md, a));
    }

    /**
     * Text positions rotate a pair only where a section covers it (llama.cpp's interleaved multi-section rule);
     * {@code where} names the sections' key in messages.
     */
    private static void checkSectionsCoverEveryPair(int[] sections, int ropeDims, String where) {
        if (sections.length != 4) {
            throw new UnsupportedModelException(where + " must have 4 entries, has " + sections.length);
        }
        int period = sections[0] + sections[1] + sections[2] + sections[3];
        for (int i = 0; i < ropeDims / 2; i++) {
            int s = period == 0 ? 0 : i % period;
            boolean covered = (s % 3 == 0 && s < 3 * sections[0]) || (s % 3 == 1 && s < 3 * sections[1])
                    || (s % 3 == 2 && s < 3 * sections[2]);
            if (!covered) {
                throw new UnsupportedModelException(where + ": rope sections " + java.util.Arrays.toString(sections)
                        + " leave rotary pair " + i + " of " + ropeDims / 2 + " unrotated for text, where llama.cpp and"
                        + " Hugging Face disagree; such files are not supported");
            }
        }
    }

    @Override
    public ModelConfig config(JsonConfig json) {
        if (!json.getBoolean(ConfigKeys.ATTN_OUTPUT_GATE, true)) {
            throw new UnsupportedModelException(json.file() + ": '" + ConfigKeys.ATTN_OUTPUT_GATE.huggingFace()
                    + "' false is not supported (Qwen3.5's attention is gated)");
        }
        // Qwen3_5TextConfig's defaults: head_dim 256, partial_rotary_factor 0.25; the MoE always renormalises top-k
        ModelConfig base = ConfigKeys.huggingFace(json, name(), (hidden, heads) -> 256, !moe ? null
                : c -> new ModelConfig.MoeConfig(
                        c.getInt(ConfigKeys.NUM_EXPERTS),
                        c.getInt(ConfigKeys.NUM_EXPERTS_PER_TOK),
                        c.getInt(ConfigKeys.EXPERT_INTERMEDIATE_SIZE),
                        true, 1, Set.of(),
                        c.getInt(ConfigKeys.SHARED_EXPERT_INTERMEDIATE_SIZE)));
        int ropeDims = ConfigKeys.partialRotaryDims(json, base.headDim(), 0.25);
        int[] sections = json.getInts(ConfigKeys.ROPE_SECTIONS);
        if (sections != null) {
            String where = json.file() + ": '" + ConfigKeys.ROPE_SECTIONS.huggingFace() + "'";
            if (sections.length != 3) {
                throw new UnsupportedModelException(where + " must have 3 entries, has " + sections.length);
            }
            // GGUF's fourth section (0) is the one text positions leave unrotated
            checkSectionsCoverEveryPair(new int[] {sections[0], sections[1], sections[2], 0}, ropeDims, where);
        }
        return base.withHybrid(ropeDims, ConfigKeys.linearAttention(json));
    }

    @Override
    public TensorSource huggingFaceTensors(SafetensorsTensorSource checkpoint, ModelConfig config) {
        return new HuggingFace(checkpoint);
    }

    @Override
    public Weights.Layer layer(TensorSource tensors, ModelConfig config, int layer) {
        Weights.Mixer mixer = config.linear().isFullAttention(layer)
                ? Blocks.gatedAttention(tensors, config, layer) : deltaNet(tensors, config, layer);
        Weights.FeedForward ffn = moe ? Blocks.sharedExpertMoe(tensors, config, layer)
                : Blocks.dense(tensors, config, layer);
        return new Weights.Layer(Blocks.inputNorm(tensors, config, layer), mixer,
                tensors.vector(TensorName.POST_ATTENTION_NORM, layer, config.hiddenSize()), ffn);
    }

    private static Weights.DeltaNet deltaNet(TensorSource tensors, ModelConfig config, int layer) {
        ModelConfig.LinearAttention d = config.linear();
        int nv = d.valueHeads();
        int hidden = config.hiddenSize();
        int[] beta = new int[nv];
        int[] alpha = new int[nv];
        int[] keyHead = new int[nv];
        for (int j = 0; j < nv; j++) {
            beta[j] = j;
            alpha[j] = nv + j;
            // tiled in GGUF, grouped in Hugging Face checkpoints
            keyHead[j] = tensors instanceof HuggingFace ? j / (nv / d.keyHeads()) : j % d.keyHeads();
        }
        return Blocks.deltaNet(tensors, config, layer, List.of(
                        tensors.matrix(TensorName.LINEAR_BETA, layer, nv, hidden),
                        tensors.matrix(TensorName.LINEAR_ALPHA, layer, nv, hidden)),
                beta, alpha, keyHead);
    }

    /** The Hugging Face layout (see the class comment) converted to GGUF's, value heads left in grouped order. */
    private static final class HuggingFace extends HybridHuggingFaceView {
        private static final String GATE_UP = "model.layers.%d.mlp.experts.gate_up_proj";
        private static final String DOWN = "model.layers.%d.mlp.experts.down_proj";

        HuggingFace(SafetensorsTensorSource checkpoint) {
            super(checkpoint);
        }

        /** Views into the fused expert tensors (per-expert tensors, if the checkpoint holds those instead). */
        @Override
        public List<Matrix> experts(TensorName name, int layer, int experts, int rows, int cols) {
            String gateUp = checkpoint.resolve(GATE_UP.formatted(layer));
            if (!checkpoint.has(gateUp)) {
                return super.experts(name, layer, experts, rows, cols);
            }
            Matrix all = switch (name) {
                // gate and up [F, H] each: 2F rows per expert
                case FFN_GATE_EXPERTS, FFN_UP_EXPERTS -> checkpoint.matrix(gateUp, experts * 2 * rows, cols,
                        experts, 2L * rows, cols);
                case FFN_DOWN_EXPERTS -> checkpoint.matrix(checkpoint.resolve(DOWN.formatted(layer)),
                        experts * rows, cols, experts, rows, cols);
                default -> throw new IllegalArgumentException(name + " is not an expert tensor");
            };
            int stride = all.rows() / experts;
            int offset = name == TensorName.FFN_UP_EXPERTS ? rows : 0;
            String part = switch (name) {
                case FFN_GATE_EXPERTS -> ".gate";
                case FFN_UP_EXPERTS -> ".up";
                default -> "";
            };
            List<Matrix> out = new ArrayList<>(experts);
            for (int e = 0; e < experts; e++) {
                out.add(all.rowSlice(all.name() + "[" + e + "]" + part, e * stride + offset, rows));
            }
            return out;
        }
    }
}
