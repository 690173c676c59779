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
    FFN_GATE("blk.%d.ffn_gate.weight", "model.layers.%d.mlp.gate_proj.weight"),
    FFN_UP("blk.%d.ffn_up.weight", "model.layers.%d.mlp.up_proj.weight"),
    FFN_DOWN("blk.%d.ffn_down.weight", "model.layers.%d.mlp.down_proj.weight"),
    FFN_ROUTER("blk.%d.ffn_gate_inp.weight", "model.layers.%d.mlp.gate.weight"),
    FFN_GATE_EXPERTS("blk.%d.ffn_gate_exps.weight", "model.layers.%d.mlp.experts.%d.gate_proj.weight"),
    FFN_UP_EXPERTS("blk.%d.ffn_up_exps.weight", "model.layers.%d.mlp.experts.%d.up_proj.weight"),
    FFN_DOWN_EXPERTS("blk.%d.ffn_down_exps.weight", "model.layers.%d.mlp.experts.%d.down_proj.weight");

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
