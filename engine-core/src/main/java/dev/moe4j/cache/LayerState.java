package dev.moe4j.cache;

/** What one layer keeps per sequence: keys and values per position, or a fixed-size recurrent state. */
public sealed interface LayerState {

    /** Softmax attention: {@code kvDim} floats of keys and as many of values per position, in paged blocks. */
    record Kv(int kvDim) implements LayerState {}

    /**
     * Linear attention: a fixed slot per sequence, the causal convolution's window ({@code convFloats}) and the
     * recurrence's state ({@code stateFloats}), zero when the sequence starts.
     */
    record Recurrent(int convFloats, int stateFloats) implements LayerState {}
}
