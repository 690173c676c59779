package dev.moe4j.model.qwen35;

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
 * Qwen3.5, dense ({@code qwen35}) and MoE ({@code qwen35moe}): Qwen3-Next's layers with separate beta and decay
 * projections (ssm_beta, ssm_alpha), value heads in tiled order in GGUF (value head j reads key head j mod nk), a
 * dense SwiGLU or the shared-expert MoE, and multi-section rotary, which for text positions is Qwen3-Next's partial
 * rotary when the sections cover every rotated pair (files where they do not are refused: llama.cpp and Hugging Face
 * compute different things for them).
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
        return Set.of(); // Hugging Face directories of this architecture do not load yet
    }

    @Override
    public Set<String> huggingFaceClasses() {
        return Set.of();
    }

    @Override
    public ModelConfig config(GgufMetadata md, int vocabSize, boolean tied) {
        String a = name();
        ModelConfig base;
        if (moe) {
            ModelConfig.MoeConfig experts = new ModelConfig.MoeConfig(
                    md.getInt(ConfigKeys.NUM_EXPERTS.gguf(a), 1),
                    md.getInt(ConfigKeys.NUM_EXPERTS_PER_TOK.gguf(a), 1),
                    md.getInt(ConfigKeys.EXPERT_INTERMEDIATE_SIZE.gguf(a), 1),
                    true, 1, Set.of(),
                    md.getInt(ConfigKeys.SHARED_EXPERT_INTERMEDIATE_SIZE.gguf(a), 1));
            base = ConfigKeys.gguf(md, a, vocabSize, tied, 0, experts);
        } else {
            base = ConfigKeys.gguf(md, a, vocabSize, tied, md.getInt(ConfigKeys.INTERMEDIATE_SIZE.gguf(a), 1), null);
        }
        int ropeDims = md.getInt(ConfigKeys.ROPE_DIMS.gguf(a), 2);
        checkSectionsCoverEveryPair(md.getIntArray(ConfigKeys.ROPE_SECTIONS.gguf(a)), ropeDims);
        return base.withHybrid(ropeDims, ConfigKeys.linearAttention(md, a));
    }

    /** Text positions rotate a pair only where a section covers it (llama.cpp's interleaved multi-section rule). */
    private static void checkSectionsCoverEveryPair(int[] sections, int ropeDims) {
        if (sections.length != 4) {
            throw new UnsupportedModelException("rope.dimension_sections must have 4 entries, has " + sections.length);
        }
        int period = sections[0] + sections[1] + sections[2] + sections[3];
        for (int i = 0; i < ropeDims / 2; i++) {
            int s = period == 0 ? 0 : i % period;
            boolean covered = (s % 3 == 0 && s < 3 * sections[0]) || (s % 3 == 1 && s < 3 * sections[1])
                    || (s % 3 == 2 && s < 3 * sections[2]);
            if (!covered) {
                throw new UnsupportedModelException("rope sections " + java.util.Arrays.toString(sections)
                        + " leave rotary pair " + i + " of " + ropeDims / 2 + " unrotated for text, where llama.cpp and"
                        + " Hugging Face disagree; such files are not supported");
            }
        }
    }

    @Override
    public ModelConfig config(JsonConfig json) {
        throw new UnsupportedModelException(json.file() + ": Qwen3.5 loads from GGUF files only so far");
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
            keyHead[j] = j % d.keyHeads(); // tiled in GGUF
        }
        return Blocks.deltaNet(tensors, config, layer, List.of(
                        tensors.matrix(TensorName.LINEAR_BETA, layer, nv, hidden),
                        tensors.matrix(TensorName.LINEAR_ALPHA, layer, nv, hidden)),
                beta, alpha, keyHead);
    }
}
