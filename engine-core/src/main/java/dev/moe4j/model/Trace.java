package dev.moe4j.model;

/**
 * Receives named intermediate activations of a forward pass ({@code "attn_norm"}, {@code "q"}, {@code "ffn_out"},
 * …; layer −1 for whole-model ones), so a mismatch against a reference can be found layer by layer. The default
 * does nothing.
 */
@FunctionalInterface
public interface Trace {
    Trace NONE = (name, layer, data, rows, cols) -> { };

    /** {@code data} holds {@code [rows][cols]} from offset 0; it is only valid during the call. */
    void record(String name, int layer, float[] data, int rows, int cols);
}
