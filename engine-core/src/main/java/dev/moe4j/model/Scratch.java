package dev.moe4j.model;

/**
 * Per-step working memory of a forward pass, sized for the largest batch seen so far and reused, so that a decode
 * loop allocates no activations per token. One instance per thread calling {@link Model#forward}; never shared.
 */
public final class Scratch {
    private final ModelConfig config;
    private int capacity;

    float[] x;        // [n][hidden] residual stream
    float[] xn;       // [n][hidden] normed input of a block
    float[] q;        // [n][H·hd]
    float[] k;        // [n][KV·hd]
    float[] v;        // [n][KV·hd]
    float[] attn;     // [n][H·hd] attention output before o_proj
    float[] out;      // [n][hidden] block output added to the residual
    float[] gate;     // [n][ffn] dense gate, then silu(gate)·up
    float[] up;       // [n][ffn]
    float[] router;   // [n][experts] router logits → probabilities
    float[] expertIn; // [n][hidden] the tokens routed to one expert, gathered
    float[] expertGate; // [n][expertFfn]
    float[] expertUp;   // [n][expertFfn]
    float[] expertOut;  // [n][hidden]
    int[] expertTokens; // [n·k] token index per routed slot, grouped by expert
    float[] expertWeights; // [n·k] routing weight per routed slot
    int[] chosen;       // [n][k] experts chosen per token
    float[] chosenWeights; // [n][k]
    float[][] cos;      // [n][hd/2] rotary cos and sin at each token's position, once a pass for all layers
    float[][] sin;

    /** Batches of up to this many tokens run their experts together (see {@code FeedForwardBlock}). */
    static final int SMALL_BATCH = 4;

    // per active expert of a small batch: [slot][SMALL_BATCH × hidden or expertFfn], allocated on first use
    float[][] slotIn = new float[0][];
    float[][] slotGate = new float[0][];
    float[][] slotUp = new float[0][];
    float[][] slotOut = new float[0][];

    public Scratch(ModelConfig config) {
        this.config = config;
    }

    /** Makes room for {@code active} experts of a batch of at most {@link #SMALL_BATCH} tokens. */
    void ensureExpertSlots(int active) {
        int have = slotIn.length;
        if (active <= have) {
            return;
        }
        int hidden = config.hiddenSize();
        int ffn = config.moe().expertIntermediateSize();
        slotIn = java.util.Arrays.copyOf(slotIn, active);
        slotGate = java.util.Arrays.copyOf(slotGate, active);
        slotUp = java.util.Arrays.copyOf(slotUp, active);
        slotOut = java.util.Arrays.copyOf(slotOut, active);
        for (int i = have; i < active; i++) {
            slotIn[i] = new float[SMALL_BATCH * hidden];
            slotGate[i] = new float[SMALL_BATCH * ffn];
            slotUp[i] = new float[SMALL_BATCH * ffn];
            slotOut[i] = new float[SMALL_BATCH * hidden];
        }
    }

    /** Heap bytes {@link #ensure} takes for a batch of {@code n} tokens (for sizing what else fits). */
    public static long bytesFor(ModelConfig config, int n) {
        long perToken = 3L * config.hiddenSize() + 2L * config.qDim() + 2L * config.kvDim()
                + 2L * Math.max(config.intermediateSize(), 1) + config.headDim();
        if (config.isMoe()) {
            ModelConfig.MoeConfig moe = config.moe();
            perToken += moe.numExperts() + 2L * config.hiddenSize() + 2L * moe.expertIntermediateSize()
                    + 4L * moe.numExpertsPerTok();
        }
        return perToken * n * Float.BYTES;
    }

    /** Makes room for a batch of {@code n} tokens. */
    void ensure(int n) {
        if (n <= capacity) {
            return;
        }
        int hidden = config.hiddenSize();
        x = new float[n * hidden];
        xn = new float[n * hidden];
        q = new float[n * config.qDim()];
        k = new float[n * config.kvDim()];
        v = new float[n * config.kvDim()];
        attn = new float[n * config.qDim()];
        out = new float[n * hidden];
        int ffn = Math.max(config.intermediateSize(), 1);
        gate = new float[n * ffn];
        up = new float[n * ffn];
        if (config.isMoe()) {
            ModelConfig.MoeConfig moe = config.moe();
            int topK = moe.numExpertsPerTok();
            router = new float[n * moe.numExperts()];
            expertIn = new float[n * hidden];
            expertGate = new float[n * moe.expertIntermediateSize()];
            expertUp = new float[n * moe.expertIntermediateSize()];
            expertOut = new float[n * hidden];
            expertTokens = new int[n * topK];
            expertWeights = new float[n * topK];
            chosen = new int[n * topK];
            chosenWeights = new float[n * topK];
        }
        int half = config.headDim() / 2;
        cos = new float[n][half];
        sin = new float[n][half];
        capacity = n;
    }
}
