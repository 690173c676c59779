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
    // gated attention
    float[] qGate;      // [n][H·2·hd] query and gate rows per head
    float[] gateAttn;   // [n][H·hd] the gate, split out
    // shared expert
    float[] sharedOut;  // [n][hidden]
    // Gated DeltaNet
    float[] linQkv;     // [n][channels] projection, then convolved in place
    float[] linZ;       // [n][nv·dv]
    float[] linGateIn;  // [n][gate projection rows, concatenated]
    float[] linG;       // [n][nv] log-decay
    float[] linBeta;    // [n][nv]
    float[] linQ;       // [n][nv·dk] q per value head (its key head's, normalised)
    float[] linK;       // [n][nv·dk]
    float[] linO;       // [n][nv·dv]

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
                + 2L * ffnWidth(config) + config.headDim();
        if (config.linear() != null) {
            ModelConfig.LinearAttention l = config.linear();
            perToken += 3L * config.qDim() + config.hiddenSize() + 1 + l.convChannels()
                    + 4L * l.valueHeads() * Math.max(l.keyDim(), l.valueDim()) + 4L * l.valueHeads();
        }
        if (config.isMoe()) {
            ModelConfig.MoeConfig moe = config.moe();
            perToken += moe.numExperts() + 2L * config.hiddenSize() + 2L * moe.expertIntermediateSize()
                    + 4L * moe.numExpertsPerTok();
        }
        return perToken * n * Float.BYTES;
    }

    /** The widest dense SwiGLU: a dense layer's or the shared expert's. */
    private static int ffnWidth(ModelConfig config) {
        int shared = config.isMoe() ? config.moe().sharedExpertSize() : 0;
        return Math.max(Math.max(config.intermediateSize(), shared), 1);
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
        int ffn = ffnWidth(config);
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
        if (config.linear() != null) {
            ModelConfig.LinearAttention l = config.linear();
            int nv = l.valueHeads();
            qGate = new float[n * 2 * config.qDim()];
            gateAttn = new float[n * config.qDim()];
            sharedOut = new float[n * hidden];
            linQkv = new float[n * l.convChannels()];
            linZ = new float[n * nv * l.valueDim()];
            linGateIn = new float[n * 2 * nv];
            linG = new float[n * nv];
            linBeta = new float[n * nv];
            linQ = new float[n * nv * l.keyDim()];
            linK = new float[n * nv * l.keyDim()];
            linO = new float[n * nv * l.valueDim()];
        }
        capacity = n;
    }
}
