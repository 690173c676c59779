package dev.moe4j.model;

import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.format.gguf.GgufMetadata;
import dev.moe4j.kernels.Rope;
import java.util.Set;

/**
 * Where each {@link ModelConfig} field lives: the GGUF metadata key (after the {@code <arch>.} prefix) and the
 * Hugging Face config.json key. One table, so both sources fill the same record the same way.
 */
public enum ConfigKeys {
    CONTEXT_LENGTH("context_length", "max_position_embeddings"),
    HIDDEN_SIZE("embedding_length", "hidden_size"),
    NUM_LAYERS("block_count", "num_hidden_layers"),
    INTERMEDIATE_SIZE("feed_forward_length", "intermediate_size"),
    NUM_HEADS("attention.head_count", "num_attention_heads"),
    NUM_KV_HEADS("attention.head_count_kv", "num_key_value_heads"),
    HEAD_DIM("attention.key_length", "head_dim"),
    VALUE_DIM("attention.value_length", "head_dim"),
    RMS_EPS("attention.layer_norm_rms_epsilon", "rms_norm_eps"),
    ROPE_THETA("rope.freq_base", "rope_theta"),
    ROPE_SCALING_TYPE("rope.scaling.type", "rope_scaling.rope_type"),
    ROPE_SCALING_FACTOR("rope.scaling.factor", "rope_scaling.factor"),
    ROPE_SCALING_ORIGINAL_CONTEXT("rope.scaling.original_context_length",
            "rope_scaling.original_max_position_embeddings"),
    YARN_BETA_FAST("rope.scaling.yarn_beta_fast", "rope_scaling.beta_fast"),
    YARN_BETA_SLOW("rope.scaling.yarn_beta_slow", "rope_scaling.beta_slow"),
    NUM_EXPERTS("expert_count", "num_experts"),
    NUM_EXPERTS_PER_TOK("expert_used_count", "num_experts_per_tok"),
    EXPERT_INTERMEDIATE_SIZE("expert_feed_forward_length", "moe_intermediate_size"),
    NORM_TOPK_PROB("expert_weights_norm", "norm_topk_prob");

    /** Architectures moe4j runs (GGUF {@code general.architecture}). */
    public static final Set<String> ARCHITECTURES = Set.of("qwen3", "qwen3moe");

    private final String gguf;
    private final String huggingFace;

    ConfigKeys(String gguf, String huggingFace) {
        this.gguf = gguf;
        this.huggingFace = huggingFace;
    }

    /** The full GGUF key for an architecture, e.g. {@code qwen3.attention.key_length}. */
    public String gguf(String arch) {
        return arch + "." + gguf;
    }

    public String huggingFace() {
        return huggingFace;
    }

    /**
     * Fills a config from GGUF metadata. {@code vocabSize} and {@code tiedEmbeddings} come from the tensors (the
     * embedding's row count, the absence of {@code output.weight}).
     */
    public static ModelConfig fromGguf(GgufMetadata md, int vocabSize, boolean tiedEmbeddings) {
        String arch = md.getString("general.architecture");
        if (!ARCHITECTURES.contains(arch)) {
            throw new UnsupportedModelException("architecture '" + arch + "' is not supported (supported: "
                    + String.join(", ", ARCHITECTURES.stream().sorted().toList()) + ")");
        }
        int headDim = md.getInt(HEAD_DIM.gguf(arch), 1);
        int valueDim = md.getInt(VALUE_DIM.gguf(arch), 1, headDim);
        if (valueDim != headDim) {
            throw new UnsupportedModelException("key length " + headDim + " differs from value length " + valueDim);
        }
        int numHeads = md.getInt(NUM_HEADS.gguf(arch), 1);
        Rope.Yarn yarn = null;
        String scaling = md.getString(ROPE_SCALING_TYPE.gguf(arch), "none");
        switch (scaling) {
            case "none" -> { }
            case "yarn" -> yarn = new Rope.Yarn(
                    md.getDouble(ROPE_SCALING_FACTOR.gguf(arch)),
                    md.getInt(ROPE_SCALING_ORIGINAL_CONTEXT.gguf(arch), 1),
                    md.getDouble(YARN_BETA_FAST.gguf(arch), 32),
                    md.getDouble(YARN_BETA_SLOW.gguf(arch), 1),
                    Double.NaN);
            default -> throw new UnsupportedModelException("RoPE scaling '" + scaling + "' is not supported (yarn is)");
        }
        ModelConfig.MoeConfig moe = null;
        if (arch.equals("qwen3moe")) {
            // GGUF has no sparse-step key; released Qwen3-MoE models are MoE in every layer
            moe = new ModelConfig.MoeConfig(
                    md.getInt(NUM_EXPERTS.gguf(arch), 1),
                    md.getInt(NUM_EXPERTS_PER_TOK.gguf(arch), 1),
                    md.getInt(EXPERT_INTERMEDIATE_SIZE.gguf(arch), 1),
                    md.getBoolean(NORM_TOPK_PROB.gguf(arch), true),
                    1, Set.of());
        }
        double eps = md.getDouble(RMS_EPS.gguf(arch));
        return new ModelConfig(arch, vocabSize,
                md.getInt(HIDDEN_SIZE.gguf(arch), 1),
                md.getInt(NUM_LAYERS.gguf(arch), 1),
                numHeads,
                md.getInt(NUM_KV_HEADS.gguf(arch), 1, numHeads),
                headDim,
                moe != null ? md.getInt(INTERMEDIATE_SIZE.gguf(arch), 0, 0) : md.getInt(INTERMEDIATE_SIZE.gguf(arch), 1),
                (float) eps,
                md.getDouble(ROPE_THETA.gguf(arch), 10000.0),
                yarn,
                md.getInt(CONTEXT_LENGTH.gguf(arch), 1),
                moe,
                tiedEmbeddings);
    }
}
