package dev.moe4j.model;

/**
 * Canonical tensor names with their GGUF and Hugging Face spellings ({@code %d} is the layer; for the per-expert
 * Hugging Face tensors the second {@code %d} is the expert). The forward pass never sees a name: loaders resolve
 * these into weight records once.
 */
public enum TensorName {
    TOKEN_EMBEDDING("token_embd.weight", "model.embed_tokens.weight"),
    OUTPUT_NORM("output_norm.weight", "model.norm.weight"),
    OUTPUT("output.weight", "lm_head.weight"),
    ATTN_NORM("blk.%d.attn_norm.weight", "model.layers.%d.input_layernorm.weight"),
    ATTN_Q("blk.%d.attn_q.weight", "model.layers.%d.self_attn.q_proj.weight"),
    ATTN_K("blk.%d.attn_k.weight", "model.layers.%d.self_attn.k_proj.weight"),
    ATTN_V("blk.%d.attn_v.weight", "model.layers.%d.self_attn.v_proj.weight"),
    ATTN_OUTPUT("blk.%d.attn_output.weight", "model.layers.%d.self_attn.o_proj.weight"),
    ATTN_Q_NORM("blk.%d.attn_q_norm.weight", "model.layers.%d.self_attn.q_norm.weight"),
    ATTN_K_NORM("blk.%d.attn_k_norm.weight", "model.layers.%d.self_attn.k_norm.weight"),
    FFN_NORM("blk.%d.ffn_norm.weight", "model.layers.%d.post_attention_layernorm.weight"),
    POST_ATTENTION_NORM("blk.%d.post_attention_norm.weight", "model.layers.%d.post_attention_layernorm.weight"),
    LINEAR_QKV("blk.%d.attn_qkv.weight", "model.layers.%d.linear_attn.in_proj_qkv.weight"),
    LINEAR_Z("blk.%d.attn_gate.weight", "model.layers.%d.linear_attn.in_proj_z.weight"),
    LINEAR_BA("blk.%d.ssm_ba.weight", "model.layers.%d.linear_attn.in_proj_ba.weight"),
    LINEAR_BETA("blk.%d.ssm_beta.weight", "model.layers.%d.linear_attn.in_proj_b.weight"),
    LINEAR_ALPHA("blk.%d.ssm_alpha.weight", "model.layers.%d.linear_attn.in_proj_a.weight"),
    LINEAR_CONV("blk.%d.ssm_conv1d.weight", "model.layers.%d.linear_attn.conv1d.weight"),
    LINEAR_DT_BIAS("blk.%d.ssm_dt.bias", "model.layers.%d.linear_attn.dt_bias"),
    LINEAR_A("blk.%d.ssm_a", "model.layers.%d.linear_attn.A_log"),
    LINEAR_NORM("blk.%d.ssm_norm.weight", "model.layers.%d.linear_attn.norm.weight"),
    LINEAR_OUT("blk.%d.ssm_out.weight", "model.layers.%d.linear_attn.out_proj.weight"),
    FFN_GATE("blk.%d.ffn_gate.weight", "model.layers.%d.mlp.gate_proj.weight"),
    FFN_UP("blk.%d.ffn_up.weight", "model.layers.%d.mlp.up_proj.weight"),
    FFN_DOWN("blk.%d.ffn_down.weight", "model.layers.%d.mlp.down_proj.weight"),
    FFN_ROUTER("blk.%d.ffn_gate_inp.weight", "model.layers.%d.mlp.gate.weight"),
    FFN_GATE_EXPERTS("blk.%d.ffn_gate_exps.weight", "model.layers.%d.mlp.experts.%d.gate_proj.weight"),
    FFN_UP_EXPERTS("blk.%d.ffn_up_exps.weight", "model.layers.%d.mlp.experts.%d.up_proj.weight"),
    FFN_DOWN_EXPERTS("blk.%d.ffn_down_exps.weight", "model.layers.%d.mlp.experts.%d.down_proj.weight"),
    FFN_SHARED_GATE_INP("blk.%d.ffn_gate_inp_shexp.weight", "model.layers.%d.mlp.shared_expert_gate.weight"),
    FFN_SHARED_GATE("blk.%d.ffn_gate_shexp.weight", "model.layers.%d.mlp.shared_expert.gate_proj.weight"),
    FFN_SHARED_UP("blk.%d.ffn_up_shexp.weight", "model.layers.%d.mlp.shared_expert.up_proj.weight"),
    FFN_SHARED_DOWN("blk.%d.ffn_down_shexp.weight", "model.layers.%d.mlp.shared_expert.down_proj.weight");

    private final String gguf;
    private final String huggingFace;

    TensorName(String gguf, String huggingFace) {
        this.gguf = gguf;
        this.huggingFace = huggingFace;
    }

    public String gguf(int layer) {
        return gguf.formatted(layer);
    }

    /** The Hugging Face name; experts take {@code (layer, expert)}. */
    public String huggingFace(int... indices) {
        return huggingFace.formatted((Object[]) java.util.Arrays.stream(indices).boxed().toArray(Integer[]::new));
    }

    public boolean isPerLayer() {
        return gguf.contains("%d");
    }
}
