package dev.moe4j.model.qwen3next;

import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.format.gguf.GgufMetadata;
import dev.moe4j.model.Architecture;
import dev.moe4j.model.Blocks;
import dev.moe4j.model.ConfigKeys;
import dev.moe4j.model.JsonConfig;
import dev.moe4j.model.ModelConfig;
import dev.moe4j.model.TensorName;
import dev.moe4j.model.TensorSource;
import dev.moe4j.model.Weights;
import java.util.List;
import java.util.Set;

/**
 * Qwen3-Next: three of every four layers Gated DeltaNet linear attention, the fourth gated softmax attention with
 * partial rotary; a MoE with a sigmoid-gated shared expert in every layer (top-k always renormalised). In GGUF the
 * beta and decay inputs share one projection (ssm_ba), grouped per key head: its nv/nk rows of b, then of a; value
 * heads j·nk/nv … read key head j / (nv/nk).
 */
public final class Qwen3Next implements Architecture {

    @Override
    public String name() {
        return "qwen3next";
    }

    @Override
    public Set<String> huggingFaceModelTypes() {
        return Set.of(); // Hugging Face directories of this architecture do not load yet
    }

    @Override
    public Set<String> huggingFaceClasses() {
        return Set.of();
    }

    @Override
    public ModelConfig config(GgufMetadata md, int vocabSize, boolean tied) {
        String a = name();
        ModelConfig.MoeConfig moe = new ModelConfig.MoeConfig(
                md.getInt(ConfigKeys.NUM_EXPERTS.gguf(a), 1),
                md.getInt(ConfigKeys.NUM_EXPERTS_PER_TOK.gguf(a), 1),
                md.getInt(ConfigKeys.EXPERT_INTERMEDIATE_SIZE.gguf(a), 1),
                true, 1, Set.of(),
                md.getInt(ConfigKeys.SHARED_EXPERT_INTERMEDIATE_SIZE.gguf(a), 1));
        return ConfigKeys.gguf(md, a, vocabSize, tied, 0, moe).withHybrid(md.getInt(ConfigKeys.ROPE_DIMS.gguf(a), 2),
                ConfigKeys.linearAttention(md, a));
    }

    @Override
    public ModelConfig config(JsonConfig json) {
        throw new UnsupportedModelException(json.file() + ": Qwen3-Next loads from GGUF files only so far");
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
}
