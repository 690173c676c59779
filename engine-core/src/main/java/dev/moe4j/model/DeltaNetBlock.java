package dev.moe4j.model;

import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.kernels.GatedDeltaNet;
import dev.moe4j.kernels.Kernels;

/**
 * Gated DeltaNet linear attention over each sequence's recurrent slot. Reads {@code s.xn}, writes {@code s.out}.
 * Per token: the q, k, v projection through the causal convolution and SiLU; q and k L2-normalised per key head;
 * beta = sigmoid(b), g = ssmA·softplus(a + dtBias) per value head; the gated delta rule per value head (a prompt's
 * run of tokens in 64-token chunks, a single token by the recurrence); then the gated RMSNorm with z and the output
 * projection. A sequence's tokens are taken in batch order, run by run, so its state advances in order.
 */
final class DeltaNetBlock {
    private DeltaNetBlock() {}

    /** Hugging Face's l2norm adds this inside the root. */
    private static final float L2_EPS = 1e-6f;

    static void forward(Kernels kernels, ModelConfig config, Weights.DeltaNet w, int layer, Batch batch,
                        KvCache cache, Scratch s) {
        int n = batch.size();
        ModelConfig.LinearAttention d = w.dims();
        int nk = d.keyHeads();
        int nv = d.valueHeads();
        int dk = d.keyDim();
        int dv = d.valueDim();
        int channels = d.convChannels();
        int convFloats = (d.convKernel() - 1) * channels;
        int stateFloats = nv * dk * dv;
        float scale = (float) (1.0 / Math.sqrt(dk));

        // projections; two gate matrices land side by side per token, as one fused matrix would
        int gateRows = 0;
        for (var g : w.gates()) {
            gateRows += g.rows();
        }
        if (w.gates().size() == 1) {
            kernels.matmulAll(new Kernels.Product(s.linQkv, w.qkv(), s.xn, n),
                    new Kernels.Product(s.linZ, w.z(), s.xn, n),
                    new Kernels.Product(s.linGateIn, w.gates().get(0), s.xn, n));
        } else {
            kernels.matmulAll(new Kernels.Product(s.linQkv, w.qkv(), s.xn, n),
                    new Kernels.Product(s.linZ, w.z(), s.xn, n),
                    new Kernels.Product(s.linG, w.gates().get(0), s.xn, n),
                    new Kernels.Product(s.linBeta, w.gates().get(1), s.xn, n));
            int r0 = w.gates().get(0).rows();
            int r1 = w.gates().get(1).rows();
            for (int t = 0; t < n; t++) {
                System.arraycopy(s.linG, t * r0, s.linGateIn, t * gateRows, r0);
                System.arraycopy(s.linBeta, t * r1, s.linGateIn, t * gateRows + r0, r1);
            }
        }
        // per token: the gates' inputs gathered by value head, then beta and the log-decay
        float[] b = new float[nv];
        float[] a = new float[nv];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < nv; j++) {
                b[j] = s.linGateIn[t * gateRows + w.betaColumn()[j]];
                a[j] = s.linGateIn[t * gateRows + w.alphaColumn()[j]];
            }
            GatedDeltaNet.gates(s.linG, s.linBeta, t * nv, a, 0, b, 0, w.ssmA(), w.dtBias(), nv);
        }

        float[] convState = cache.conv(layer);
        float[] state = cache.state(layer);
        int t0 = 0;
        while (t0 < n) {
            Sequence seq = batch.sequence(t0);
            int t1 = t0 + 1;
            while (t1 < n && batch.sequence(t1) == seq) {
                t1++;
            }
            int first = t0;
            int count = t1 - t0;
            int slot = seq.recurrentSlot();
            kernels.causalConv1dSilu(s.linQkv, first * channels, channels, s.linQkv, first * channels, channels,
                    w.conv(), convState, slot * convFloats, count, channels, d.convKernel());
            for (int t = first; t < t1; t++) {
                kernels.l2Normalize(s.linQkv, t * channels, 2 * nk, dk, L2_EPS); // q heads, then k heads
            }
            kernels.parallel().forRange(nv, 1, (from, to) -> {
                for (int j = from; j < to; j++) {
                    int kh = w.keyHead()[j];
                    int qOff = first * channels + kh * dk;
                    int kOff = first * channels + (nk + kh) * dk;
                    int vOff = first * channels + 2 * nk * dk + j * dv;
                    int stateOff = slot * stateFloats + j * dk * dv;
                    if (count == 1) {
                        kernels.gatedDeltaStep(s.linO, first * nv * dv + j * dv, state, stateOff, s.linQkv, qOff,
                                s.linQkv, kOff, s.linQkv, vOff, s.linG[first * nv + j], s.linBeta[first * nv + j], dk,
                                dv, scale);
                    } else {
                        kernels.gatedDeltaChunked(s.linO, first * nv * dv + j * dv, nv * dv, state, stateOff,
                                s.linQkv, qOff, channels, s.linQkv, kOff, channels, s.linQkv, vOff, channels, s.linG,
                                s.linBeta, first * nv + j, nv, count, dk, dv, scale);
                    }
                }
            });
            t0 = t1;
        }
        kernels.gatedRmsNorm(s.linO, 0, s.linO, 0, s.linZ, 0, w.norm(), n * nv, dv, config.rmsNormEps());
        kernels.matmul(s.out, w.out(), s.linO, n);
    }
}
