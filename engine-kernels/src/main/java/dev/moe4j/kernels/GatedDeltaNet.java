package dev.moe4j.kernels;

/**
 * The plain-Java specification of the Gated DeltaNet layer's kernels (Qwen3-Next, Qwen3.5), which
 * {@code DeltaNetKernels} vectorises. Per value head the layer keeps a state S of {@code [dk][dv]} floats, row-major
 * (S[i][j] at state[stateOff + i·dv + j], i over the key dimension), zero at the start of a sequence; per token, with
 * q and k L2-normalised, beta = sigmoid(b) and the log-decay g = ssm_a·softplus(a + dt_bias) ≤ 0:
 * <pre>
 *   S ← e^g·S;   S ← S + k ⊗ beta·(v − Sᵀk);   o = scale·Sᵀq
 * </pre>
 * {@link #step} runs this recurrence for one token; {@link #chunked} computes the same for a prompt 64 tokens at a
 * time with matrix products. Every sum is a chain of fused multiply-adds over its terms in index order, so that the
 * vector kernels, which vectorise over an output index and keep that order per lane, give the same bits; e^g comes
 * from {@link StrictMath#exp} once per token in both, the same bits on every platform and in every JVM state. All
 * arithmetic is F32.
 */
public final class GatedDeltaNet {

    /** Tokens per chunk of {@link #chunked}. */
    public static final int CHUNK = 64;

    /** PyTorch's softplus returns its argument above this (log1p(e^x) equals x there in float). */
    private static final double SOFTPLUS_THRESHOLD = 20;

    private GatedDeltaNet() {}

    /**
     * The per-token gates of {@code nHeads} value heads: beta[off + h] = sigmoid(b[bOff + h]) and
     * g[off + h] = ssmA[h]·softplus(a[aOff + h] + dtBias[h]), in double ({@link StrictMath}, so the bits do not
     * depend on the platform) and rounded once. {@code ssmA} is the stored −exp(A_log).
     */
    public static void gates(float[] g, float[] beta, int off, float[] a, int aOff, float[] b, int bOff,
            float[] ssmA, float[] dtBias, int nHeads) {
        for (int h = 0; h < nHeads; h++) {
            double x = (double) a[aOff + h] + dtBias[h];
            double softplus = x > SOFTPLUS_THRESHOLD ? x : StrictMath.log1p(StrictMath.exp(x));
            g[off + h] = (float) (ssmA[h] * softplus);
            beta[off + h] = (float) (1 / (1 + StrictMath.exp(-b[bOff + h])));
        }
    }

    /**
     * One token of one value head: updates S at state[stateOff, + dk·dv) in place and writes o to out[outOff, + dv).
     * q is q[qOff, + dk), k is k[kOff, + dk), v is v[vOff, + dv); g is the log-decay and beta the sigmoid gate;
     * scale is 1/sqrt(dk) in the Qwen models. Per column j: the decayed state and Σ_i S[i][j]·k[i] in one pass
     * over i, then the update and Σ_i S[i][j]·q[i] in a second.
     */
    public static void step(float[] out, int outOff, float[] state, int stateOff, float[] q, int qOff, float[] k,
            int kOff, float[] v, int vOff, float g, float beta, int dk, int dv, float scale) {
        float decay = (float) StrictMath.exp(g);
        float[] acc = new float[dv];
        for (int i = 0; i < dk; i++) {
            int row = stateOff + i * dv;
            float ki = k[kOff + i];
            for (int j = 0; j < dv; j++) {
                float s = state[row + j] * decay;
                state[row + j] = s;
                acc[j] = Math.fma(s, ki, acc[j]);
            }
        }
        for (int j = 0; j < dv; j++) {
            acc[j] = beta * (v[vOff + j] - acc[j]);
        }
        float[] o = new float[dv];
        for (int i = 0; i < dk; i++) {
            int row = stateOff + i * dv;
            float ki = k[kOff + i];
            float qi = q[qOff + i];
            for (int j = 0; j < dv; j++) {
                float s = Math.fma(ki, acc[j], state[row + j]);
                state[row + j] = s;
                o[j] = Math.fma(s, qi, o[j]);
            }
        }
        for (int j = 0; j < dv; j++) {
            out[outOff + j] = o[j] * scale;
        }
    }

    /**
     * {@code nTokens} consecutive tokens of one value head, from the state at state[stateOff, + dk·dv) (see
     * {@link #step}), which holds the final state afterwards: the recurrence of {@link #step} evaluated
     * {@link #CHUNK} tokens at a time, so a prompt may come in pieces of any lengths. Token t reads
     * q[qOff + t·qStride, + dk), k[kOff + t·kStride, + dk), v[vOff + t·vStride, + dv), g[gateOff + t·gateStride],
     * beta[gateOff + t·gateStride] and writes out[outOff + t·outStride, + dv).
     *
     * <p>Within a chunk starting from state S0, with d_t = e^{g_t}, P_r = d_0⋯d_r and D[r][s] = d_{s+1}⋯d_r (1 for
     * s = r), the state after token r is P_r·S0 + Σ_{s≤r} D[r][s]·k_s ⊗ u_s, where the rows u_r = beta_r·(v_r − Sᵀk_r)
     * (S decayed, before token r's update) solve the unit lower-triangular system
     * u_r + Σ_{s&lt;r} beta_r·D[r][s]·(k_r·k_s)·u_s = beta_r·(v_r − P_r·S0ᵀk_r): the UT transform of the delta rule,
     * applied here directly to the right-hand side because the chunks run in order and S0 is known (the Gated
     * DeltaNet paper and its chunk kernels transform keys and values separately, so that chunks can start before
     * their state is). Then o_r = scale·(P_r·S0ᵀq_r + Σ_{s≤r} D[r][s]·(q_r·k_s)·u_s) and the chunk leaves
     * P_last·S0 + Σ_s D[last][s]·k_s ⊗ u_s. D and P are products of the per-token decays, all at most 1, so nothing
     * overflows; a cumulative log-decay would lose its small terms to a large sum.
     */
    public static void chunked(float[] out, int outOff, int outStride, float[] state, int stateOff, float[] q,
            int qOff, int qStride, float[] k, int kOff, int kStride, float[] v, int vOff, int vStride, float[] g,
            float[] beta, int gateOff, int gateStride, int nTokens, int dk, int dv, float scale) {
        float[] decay = new float[CHUNK];
        float[] cumulative = new float[CHUNK];
        float[] d = new float[CHUNK * CHUNK];
        float[] a = new float[CHUNK * CHUNK];
        float[] m = new float[CHUNK * CHUNK];
        float[] sk = new float[CHUNK * dv];
        float[] sq = new float[CHUNK * dv];
        float[] u = new float[CHUNK * dv];
        for (int t0 = 0; t0 < nTokens; t0 += CHUNK) {
            int n = Math.min(CHUNK, nTokens - t0);
            for (int r = 0; r < n; r++) {
                int gate = gateOff + (t0 + r) * gateStride;
                decay[r] = (float) StrictMath.exp(g[gate]);
                cumulative[r] = r == 0 ? decay[0] : cumulative[r - 1] * decay[r];
                // D[r][s] = D[r-1][s]·d_r, with D[r-1][r-1] = 1
                for (int s = 0; s < r; s++) {
                    d[r * CHUNK + s] = d[(r - 1) * CHUNK + s] * decay[r];
                }
                d[r * CHUNK + r] = 1f;
                int kr = kOff + (t0 + r) * kStride;
                int qr = qOff + (t0 + r) * qStride;
                float betaR = beta[gate];
                for (int s = 0; s <= r; s++) {
                    int ks = kOff + (t0 + s) * kStride;
                    float kk = 0f;
                    float qk = 0f;
                    for (int i = 0; i < dk; i++) {
                        kk = Math.fma(k[kr + i], k[ks + i], kk);
                        qk = Math.fma(q[qr + i], k[ks + i], qk);
                    }
                    a[r * CHUNK + s] = kk * d[r * CHUNK + s] * betaR;
                    m[r * CHUNK + s] = qk * d[r * CHUNK + s];
                }
            }
            // S0ᵀk_r and S0ᵀq_r
            for (int r = 0; r < n; r++) {
                int kr = kOff + (t0 + r) * kStride;
                int qr = qOff + (t0 + r) * qStride;
                for (int j = 0; j < dv; j++) {
                    float kAcc = 0f;
                    float qAcc = 0f;
                    for (int i = 0; i < dk; i++) {
                        float s = state[stateOff + i * dv + j];
                        kAcc = Math.fma(k[kr + i], s, kAcc);
                        qAcc = Math.fma(q[qr + i], s, qAcc);
                    }
                    sk[r * dv + j] = kAcc;
                    sq[r * dv + j] = qAcc;
                }
            }
            // forward substitution for u, then the outputs
            for (int r = 0; r < n; r++) {
                int vr = vOff + (t0 + r) * vStride;
                float betaR = beta[gateOff + (t0 + r) * gateStride];
                float pr = cumulative[r];
                for (int j = 0; j < dv; j++) {
                    float x = (v[vr + j] - sk[r * dv + j] * pr) * betaR;
                    for (int s = 0; s < r; s++) {
                        x = Math.fma(-a[r * CHUNK + s], u[s * dv + j], x);
                    }
                    u[r * dv + j] = x;
                }
                int or = outOff + (t0 + r) * outStride;
                for (int j = 0; j < dv; j++) {
                    float x = sq[r * dv + j] * pr;
                    for (int s = 0; s <= r; s++) {
                        x = Math.fma(m[r * CHUNK + s], u[s * dv + j], x);
                    }
                    out[or + j] = x * scale;
                }
            }
            // the state after the chunk
            int last = n - 1;
            float pLast = cumulative[last];
            for (int i = 0; i < dk; i++) {
                int row = stateOff + i * dv;
                for (int j = 0; j < dv; j++) {
                    float x = state[row + j] * pLast;
                    for (int s = 0; s < n; s++) {
                        float w = d[last * CHUNK + s] * k[kOff + (t0 + s) * kStride + i];
                        x = Math.fma(w, u[s * dv + j], x);
                    }
                    state[row + j] = x;
                }
            }
        }
    }

    /**
     * Causal depthwise convolution with SiLU over {@code nTokens} tokens of {@code channels} channels: token t's
     * channel c is x[xOff + t·xStride + c], and out[outOff + t·outStride + c] =
     * silu(Σ_{j&lt;K} weight[c·K + j]·x_{t−K+1+j}[c]), the last tap on the current token, where the inputs before the
     * call's first token come from the window {@code convState} ({@code [K−1][channels]}, oldest first, zeros at
     * the start of a sequence). The window holds the last K−1 inputs afterwards, so decode (one token a call)
     * continues a prompt. {@code weight} is {@code [channels][K]} as stored. out may be x (same offset and stride):
     * each input is read before its output is written. Each sum is an fma chain from the oldest tap.
     */
    public static void causalConv1dSilu(float[] out, int outOff, int outStride, float[] x, int xOff, int xStride,
            float[] weight, float[] convState, int stateOff, int nTokens, int channels, int kernel) {
        int history = kernel - 1;
        float[] window = new float[history];
        for (int c = 0; c < channels; c++) {
            for (int j = 0; j < history; j++) {
                window[j] = convState[stateOff + j * channels + c];
            }
            for (int t = 0; t < nTokens; t++) {
                float input = x[xOff + t * xStride + c];
                float sum = 0f;
                for (int j = 0; j < history; j++) {
                    sum = Math.fma(weight[c * kernel + j], window[j], sum);
                }
                sum = Math.fma(weight[c * kernel + history], input, sum);
                out[outOff + t * outStride + c] = sum / (1f + (float) Math.exp(-sum));
                if (history > 0) {
                    System.arraycopy(window, 1, window, 0, history - 1);
                    window[history - 1] = input;
                }
            }
            for (int j = 0; j < history; j++) {
                convState[stateOff + j * channels + c] = window[j];
            }
        }
    }

    /**
     * x ← x / sqrt(Σx² + eps) for {@code nHeads} consecutive heads of n floats at x[off]: eps inside the root as
     * Hugging Face's l2norm (llama.cpp divides by max(‖x‖, eps) instead; the two differ only for ‖x‖² near eps).
     * The Qwen models use eps = 1e-6.
     */
    public static void l2Normalize(float[] x, int off, int nHeads, int n, float eps) {
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * n;
            float sumSq = 0f;
            for (int i = 0; i < n; i++) {
                sumSq += x[base + i] * x[base + i];
            }
            float inv = (float) (1.0 / Math.sqrt(sumSq + eps));
            for (int i = 0; i < n; i++) {
                x[base + i] *= inv;
            }
        }
    }

    /**
     * The gated RMSNorm after the delta rule, for {@code nHeads} consecutive heads of n floats:
     * out = weight·(x / sqrt(mean(x²) + eps))·silu(z) per head, with one weight [n] for all heads; x at x[xOff],
     * z at z[zOff], out at out[outOff] (out may alias x).
     */
    public static void gatedRmsNorm(float[] out, int outOff, float[] x, int xOff, float[] z, int zOff,
            float[] weight, int nHeads, int n, float eps) {
        for (int h = 0; h < nHeads; h++) {
            int xb = xOff + h * n;
            int zb = zOff + h * n;
            int ob = outOff + h * n;
            float sumSq = 0f;
            for (int i = 0; i < n; i++) {
                sumSq += x[xb + i] * x[xb + i];
            }
            float inv = (float) (1.0 / Math.sqrt(sumSq / n + eps));
            for (int i = 0; i < n; i++) {
                float gate = z[zb + i];
                out[ob + i] = weight[i] * (x[xb + i] * inv) * (gate / (1f + (float) Math.exp(-gate)));
            }
        }
    }
}
