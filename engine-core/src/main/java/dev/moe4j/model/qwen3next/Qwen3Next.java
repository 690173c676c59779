package dev.moe4j.model.qwen3next;

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
import java.util.List;
import java.util.Set;

/**
 * Qwen3-Next: three of every four layers Gated DeltaNet linear attention, the fourth gated softmax attention with
 * partial rotary; a MoE with a sigmoid-gated shared expert in every layer (top-k renormalised: always in GGUF, by
 * default in config.json). The beta and decay inputs share one projection (ssm_ba, HF in_proj_ba), grouped per key
 * head: its nv/nk rows of b, then of a; value head j reads key head j / (nv/nk).
 *
 * <p>Hugging Face checkpoints differ from GGUF in: RMSNorm weights stored zero-centred (the norm multiplies by
 * 1 + w; all but linear_attn.norm), A_log in place of ssm_a = −exp(A_log), conv1d [channels, 1, kernel], and one
 * in_proj_qkvz holding per key head g the rows [q_g | k_g | v of its value heads | z of them], regrouped here into
 * GGUF's qkv (all q, all k, all v) and z matrices.
 */
public final class Qwen3Next implements Architecture {

    @Override
    public String name() {
        return "qwen3next";
    }

    @Override
    public Set<String> huggingFaceModelTypes() {
        return Set.of("qwen3_next");
    }

    @Override
    public Set<String> huggingFaceClasses() {
        return Set.of("Qwen3NextForCausalLM");
    }

    @Override
    public ModelConfig config(GgufMetadata md, int vocabSize, boolean tied) {
        String a = name();
        ModelConfig.MoeConfig moe = ConfigKeys.sharedExpertMoe(md, a);
        return ConfigKeys.gguf(md, a, vocabSize, tied, 0, moe).withHybrid(md.getInt(ConfigKeys.ROPE_DIMS.gguf(a), 2),
                ConfigKeys.linearAttention(md, a));
    }

    @Override
    public ModelConfig config(JsonConfig json) {
        // Qwen3NextConfig's defaults: head_dim 256, partial_rotary_factor 0.25, norm_topk_prob true
        ModelConfig base = ConfigKeys.huggingFace(json, name(), (hidden, heads) -> 256, c -> new ModelConfig.MoeConfig(
                c.getInt(ConfigKeys.NUM_EXPERTS),
                c.getInt(ConfigKeys.NUM_EXPERTS_PER_TOK),
                c.getInt(ConfigKeys.EXPERT_INTERMEDIATE_SIZE),
                c.getBoolean(ConfigKeys.NORM_TOPK_PROB, true),
                c.getInt(ConfigKeys.DECODER_SPARSE_STEP, 1),
                ConfigKeys.mlpOnlyLayers(c),
                c.getInt(ConfigKeys.SHARED_EXPERT_INTERMEDIATE_SIZE)));
        for (int layer = 0; layer < base.numLayers(); layer++) {
            if (!base.moe().isMoeLayer(layer)) {
                throw new UnsupportedModelException(json.file() + ": '" + ConfigKeys.DECODER_SPARSE_STEP.huggingFace()
                        + "' / '" + ConfigKeys.MLP_ONLY_LAYERS.huggingFace() + "' make layer " + layer + " dense;"
                        + " Qwen3-Next with dense layers is not supported");
            }
        }
        // intermediate_size is unused (no dense layers): 0, as from GGUF
        return base.withIntermediateSize(0).withHybrid(ConfigKeys.partialRotaryDims(json, base.headDim(), 0.25),
                ConfigKeys.linearAttention(json));
    }

    @Override
    public TensorSource huggingFaceTensors(SafetensorsTensorSource checkpoint, ModelConfig config) {
        return new HuggingFace(checkpoint, config.linear());
    }

    @Override
    public Weights.Layer layer(TensorSource tensors, ModelConfig config, int layer) {
        Weights.Mixer mixer = config.linear().isFullAttention(layer)
                ? Blocks.gatedAttention(tensors, config, layer) : deltaNet(tensors, config, layer);
        return new Weights.Layer(Blocks.inputNorm(tensors, config, layer), mixer,
                tensors.vector(TensorName.POST_ATTENTION_NORM, layer, config.hiddenSize()),
                Blocks.sharedExpertMoe(tensors, config, layer));
    }

    private static Weights.DeltaNet deltaNet(TensorSource tensors, ModelConfig config, int layer) {
        ModelConfig.LinearAttention d = config.linear();
        int nv = d.valueHeads();
        int perKey = nv / d.keyHeads();
        int[] beta = new int[nv];
        int[] alpha = new int[nv];
        int[] keyHead = new int[nv];
        for (int j = 0; j < nv; j++) {
            int g = j / perKey;
            int m = j % perKey;
            beta[j] = g * 2 * perKey + m;
            alpha[j] = g * 2 * perKey + perKey + m;
            keyHead[j] = g;
        }
        return Blocks.deltaNet(tensors, config, layer,
                List.of(tensors.matrix(TensorName.LINEAR_BA, layer, 2 * nv, config.hiddenSize())), beta, alpha, keyHead);
    }

    /** The Hugging Face layout (see the class comment) converted to GGUF's. */
    private static final class HuggingFace extends HybridHuggingFaceView {
        private final ModelConfig.LinearAttention dims;

        HuggingFace(SafetensorsTensorSource checkpoint, ModelConfig.LinearAttention dims) {
            super(checkpoint);
            this.dims = dims;
        }

        @Override
        public Matrix matrix(TensorName name, int layer, int rows, int cols) {
            return switch (name) {
                case LINEAR_QKV -> fromQkvz(layer, false, rows, cols);
                case LINEAR_Z -> fromQkvz(layer, true, rows, cols);
                default -> super.matrix(name, layer, rows, cols);
            };
        }

        /** The qkv rows (all q heads, all k heads, all v heads) or the z rows of in_proj_qkvz, copied. */
        private Matrix fromQkvz(int layer, boolean z, int rows, int cols) {
            int dk = dims.keyDim();
            int values = dims.valueHeads() / dims.keyHeads() * dims.valueDim(); // v (or z) rows per key head
            int group = 2 * dk + 2 * values;
            int nk = dims.keyHeads();
            String name = checkpoint.resolve("model.layers.%d.linear_attn.in_proj_qkvz.weight".formatted(layer));
            Matrix qkvz = checkpoint.matrix(name, nk * group, cols, nk * group, cols);
            int[] picked = new int[z ? nk * values : nk * (2 * dk + values)];
            if (picked.length != rows) {
                throw new IllegalStateException(name + ": " + picked.length + " rows to gather, expected " + rows);
            }
            int i = 0;
            if (z) {
                for (int g = 0; g < nk; g++) {
                    for (int r = 0; r < values; r++) {
                        picked[i++] = g * group + 2 * dk + values + r;
                    }
                }
            } else {
                for (int part = 0; part < 3; part++) { // q, k, v
                    for (int g = 0; g < nk; g++) {
                        int from = g * group + part * dk;
                        for (int r = 0; r < (part < 2 ? dk : values); r++) {
                            picked[i++] = from + r;
                        }
                    }
                }
            }
            return gatherRows(qkvz, name + (z ? "[z]" : "[qkv]"), picked);
        }
    }
}
