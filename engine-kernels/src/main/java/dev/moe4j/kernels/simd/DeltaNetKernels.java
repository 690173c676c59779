package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.GatedDeltaNet.CHUNK;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Gated DeltaNet kernels of {@link dev.moe4j.kernels.GatedDeltaNet} on the Vector API. Each vectorises over an
 * output index (a state column, a token of the chunk, a channel) and keeps, per lane, the specification's chain of
 * fused multiply-adds in its order, so the delta rule (both forms) and the convolution's sums give the
 * specification's bits; only the exponentials of SiLU ({@link Exp}, within 2 ulp of {@link Math#exp}) and the
 * normalisations' sums of squares ({@link ActivationKernels#dot}) differ from it. A scalar tail repeats the vector
 * body's operations for the indices past the last full vector.
 */
final class DeltaNetKernels {

    private DeltaNetKernels() {}

    static void step(Lanes lanes, float[] out, int outOff, float[] state, int stateOff, float[] q, int qOff,
            float[] k, int kOff, float[] v, int vOff, float g, float beta, int dk, int dv, float scale) {
        VectorSpecies<Float> fs = lanes.floats();
        float decay = (float) StrictMath.exp(g);
        int j = 0;
        for (int bound = fs.loopBound(dv); j < bound; j += fs.length()) {
            FloatVector acc = FloatVector.zero(fs);
            for (int i = 0; i < dk; i++) {
                int at = stateOff + i * dv + j;
                FloatVector s = FloatVector.fromArray(fs, state, at).mul(decay);
                s.intoArray(state, at);
                acc = s.fma(FloatVector.broadcast(fs, k[kOff + i]), acc);
            }
            FloatVector delta = FloatVector.fromArray(fs, v, vOff + j).sub(acc).mul(beta);
            FloatVector o = FloatVector.zero(fs);
            for (int i = 0; i < dk; i++) {
                int at = stateOff + i * dv + j;
                FloatVector s = FloatVector.broadcast(fs, k[kOff + i]).fma(delta, FloatVector.fromArray(fs, state, at));
                s.intoArray(state, at);
                o = s.fma(FloatVector.broadcast(fs, q[qOff + i]), o);
            }
            o.mul(scale).intoArray(out, outOff + j);
        }
        for (; j < dv; j++) {
            float acc = 0f;
            for (int i = 0; i < dk; i++) {
                int at = stateOff + i * dv + j;
                float s = state[at] * decay;
                state[at] = s;
                acc = Math.fma(s, k[kOff + i], acc);
            }
            float delta = (v[vOff + j] - acc) * beta;
            float o = 0f;
            for (int i = 0; i < dk; i++) {
                int at = stateOff + i * dv + j;
                float s = Math.fma(k[kOff + i], delta, state[at]);
                state[at] = s;
                o = Math.fma(s, q[qOff + i], o);
            }
            out[outOff + j] = o * scale;
        }
    }

    static void chunked(Lanes lanes, float[] out, int outOff, int outStride, float[] state, int stateOff, float[] q,
            int qOff, int qStride, float[] k, int kOff, int kStride, float[] v, int vOff, int vStride, float[] g,
            float[] beta, int gateOff, int gateStride, int nTokens, int dk, int dv, float scale) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        float[] decay = new float[CHUNK];
        float[] cumulative = new float[CHUNK];
        // rows of CHUNK floats, a multiple of every vector length: lanes past a row's last token are never read
        float[] d = new float[CHUNK * CHUNK];
        float[] a = new float[CHUNK * CHUNK];
        float[] m = new float[CHUNK * CHUNK];
        float[] keysT = new float[dk * CHUNK];
        float[] sk = new float[CHUNK * dv];
        float[] sq = new float[CHUNK * dv];
        float[] u = new float[CHUNK * dv];
        float[] w = new float[4 * CHUNK];
        for (int t0 = 0; t0 < nTokens; t0 += CHUNK) {
            int n = Math.min(CHUNK, nTokens - t0);
            for (int s = 0; s < n; s++) {
                int ks = kOff + (t0 + s) * kStride;
                for (int i = 0; i < dk; i++) {
                    keysT[i * CHUNK + s] = k[ks + i];
                }
            }
            for (int r = 0; r < n; r++) {
                int gate = gateOff + (t0 + r) * gateStride;
                decay[r] = (float) StrictMath.exp(g[gate]);
                cumulative[r] = r == 0 ? decay[0] : cumulative[r - 1] * decay[r];
                int row = r * CHUNK;
                int s = 0;
                for (int bound = fs.loopBound(r); s < bound; s += step) {
                    FloatVector.fromArray(fs, d, row - CHUNK + s).mul(decay[r]).intoArray(d, row + s);
                }
                for (; s < r; s++) {
                    d[row + s] = d[row - CHUNK + s] * decay[r];
                }
                d[row + r] = 1f;
                // k_r·k_s and q_r·k_s for s ≤ r, a vector of s at a time
                int kr = kOff + (t0 + r) * kStride;
                int qr = qOff + (t0 + r) * qStride;
                float betaR = beta[gate];
                for (s = 0; s <= r; s += step) {
                    FloatVector kk = FloatVector.zero(fs);
                    FloatVector qk = kk;
                    for (int i = 0; i < dk; i++) {
                        FloatVector ks = FloatVector.fromArray(fs, keysT, i * CHUNK + s);
                        kk = FloatVector.broadcast(fs, k[kr + i]).fma(ks, kk);
                        qk = FloatVector.broadcast(fs, q[qr + i]).fma(ks, qk);
                    }
                    FloatVector decays = FloatVector.fromArray(fs, d, row + s);
                    kk.mul(decays).mul(betaR).intoArray(a, row + s);
                    qk.mul(decays).intoArray(m, row + s);
                }
            }
            stateProducts(lanes, sk, sq, state, stateOff, q, qOff, qStride, k, kOff, kStride, t0, n, dk, dv);
            for (int r = 0; r < n; r++) {
                int vr = vOff + (t0 + r) * vStride;
                int or = outOff + (t0 + r) * outStride;
                float betaR = beta[gateOff + (t0 + r) * gateStride];
                float pr = cumulative[r];
                int row = r * CHUNK;
                int j = 0;
                for (int bound = fs.loopBound(dv); j < bound; j += step) {
                    FloatVector x = FloatVector.fromArray(fs, v, vr + j)
                            .sub(FloatVector.fromArray(fs, sk, r * dv + j).mul(pr)).mul(betaR);
                    for (int s = 0; s < r; s++) {
                        x = FloatVector.fromArray(fs, u, s * dv + j).fma(FloatVector.broadcast(fs, -a[row + s]), x);
                    }
                    x.intoArray(u, r * dv + j);
                    FloatVector o = FloatVector.fromArray(fs, sq, r * dv + j).mul(pr);
                    for (int s = 0; s <= r; s++) {
                        o = FloatVector.fromArray(fs, u, s * dv + j).fma(FloatVector.broadcast(fs, m[row + s]), o);
                    }
                    o.mul(scale).intoArray(out, or + j);
                }
                for (; j < dv; j++) {
                    float x = (v[vr + j] - sk[r * dv + j] * pr) * betaR;
                    for (int s = 0; s < r; s++) {
                        x = Math.fma(-a[row + s], u[s * dv + j], x);
                    }
                    u[r * dv + j] = x;
                    float o = sq[r * dv + j] * pr;
                    for (int s = 0; s <= r; s++) {
                        o = Math.fma(m[row + s], u[s * dv + j], o);
                    }
                    out[or + j] = o * scale;
                }
            }
            carryState(lanes, state, stateOff, d, (n - 1) * CHUNK, cumulative[n - 1], keysT, u, w, n, dk, dv);
        }
    }

    /** sk[r][j] = Σ_i k_r[i]·S[i][j] and sq likewise, four tokens at a time so that each state row is loaded once. */
    private static void stateProducts(Lanes lanes, float[] sk, float[] sq, float[] state, int stateOff,
            float[] q, int qOff, int qStride, float[] k, int kOff, int kStride, int t0, int n, int dk, int dv) {
        // the species from the width class, so that C2 folds it to a constant in this method too
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int j = 0;
        for (int bound = fs.loopBound(dv); j < bound; j += step) {
            int r = 0;
            for (; r + 4 <= n; r += 4) {
                int k0 = kOff + (t0 + r) * kStride;
                int q0 = qOff + (t0 + r) * qStride;
                FloatVector k0s = FloatVector.zero(fs);
                FloatVector k1s = k0s;
                FloatVector k2s = k0s;
                FloatVector k3s = k0s;
                FloatVector q0s = k0s;
                FloatVector q1s = k0s;
                FloatVector q2s = k0s;
                FloatVector q3s = k0s;
                for (int i = 0; i < dk; i++) {
                    FloatVector s = FloatVector.fromArray(fs, state, stateOff + i * dv + j);
                    k0s = s.fma(FloatVector.broadcast(fs, k[k0 + i]), k0s);
                    k1s = s.fma(FloatVector.broadcast(fs, k[k0 + kStride + i]), k1s);
                    k2s = s.fma(FloatVector.broadcast(fs, k[k0 + 2 * kStride + i]), k2s);
                    k3s = s.fma(FloatVector.broadcast(fs, k[k0 + 3 * kStride + i]), k3s);
                    q0s = s.fma(FloatVector.broadcast(fs, q[q0 + i]), q0s);
                    q1s = s.fma(FloatVector.broadcast(fs, q[q0 + qStride + i]), q1s);
                    q2s = s.fma(FloatVector.broadcast(fs, q[q0 + 2 * qStride + i]), q2s);
                    q3s = s.fma(FloatVector.broadcast(fs, q[q0 + 3 * qStride + i]), q3s);
                }
                k0s.intoArray(sk, r * dv + j);
                k1s.intoArray(sk, (r + 1) * dv + j);
                k2s.intoArray(sk, (r + 2) * dv + j);
                k3s.intoArray(sk, (r + 3) * dv + j);
                q0s.intoArray(sq, r * dv + j);
                q1s.intoArray(sq, (r + 1) * dv + j);
                q2s.intoArray(sq, (r + 2) * dv + j);
                q3s.intoArray(sq, (r + 3) * dv + j);
            }
            for (; r < n; r++) {
                int kr = kOff + (t0 + r) * kStride;
                int qr = qOff + (t0 + r) * qStride;
                FloatVector ks = FloatVector.zero(fs);
                FloatVector qs = ks;
                for (int i = 0; i < dk; i++) {
                    FloatVector s = FloatVector.fromArray(fs, state, stateOff + i * dv + j);
                    ks = s.fma(FloatVector.broadcast(fs, k[kr + i]), ks);
                    qs = s.fma(FloatVector.broadcast(fs, q[qr + i]), qs);
                }
                ks.intoArray(sk, r * dv + j);
                qs.intoArray(sq, r * dv + j);
            }
        }
        for (; j < dv; j++) {
            for (int r = 0; r < n; r++) {
                int kr = kOff + (t0 + r) * kStride;
                int qr = qOff + (t0 + r) * qStride;
                float ks = 0f;
                float qs = 0f;
                for (int i = 0; i < dk; i++) {
                    float s = state[stateOff + i * dv + j];
                    ks = Math.fma(k[kr + i], s, ks);
                    qs = Math.fma(q[qr + i], s, qs);
                }
                sk[r * dv + j] = ks;
                sq[r * dv + j] = qs;
            }
        }
    }

    /**
     * The state after a chunk of n tokens: S[i][j] = pLast·S[i][j] + Σ_s w_i[s]·u[s][j] with w_i[s] =
     * D[last][s]·k_s[i] (the last row of D at d[lastRow]), four state rows at a time so that each row of u is
     * loaded once for four.
     */
    private static void carryState(Lanes lanes, float[] state, int stateOff, float[] d, int lastRow,
            float pLast, float[] keysT, float[] u, float[] w, int n, int dk, int dv) {
        // the species from the width class, so that C2 folds it to a constant in this method too
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int vectorEnd = fs.loopBound(dv);
        int i = 0;
        for (; i + 4 <= dk; i += 4) {
            for (int b = 0; b < 4; b++) {
                for (int s = 0; s < n; s++) {
                    w[b * CHUNK + s] = d[lastRow + s] * keysT[(i + b) * CHUNK + s];
                }
            }
            int row = stateOff + i * dv;
            int j = 0;
            for (; j < vectorEnd; j += step) {
                FloatVector x0 = FloatVector.fromArray(fs, state, row + j).mul(pLast);
                FloatVector x1 = FloatVector.fromArray(fs, state, row + dv + j).mul(pLast);
                FloatVector x2 = FloatVector.fromArray(fs, state, row + 2 * dv + j).mul(pLast);
                FloatVector x3 = FloatVector.fromArray(fs, state, row + 3 * dv + j).mul(pLast);
                for (int s = 0; s < n; s++) {
                    FloatVector us = FloatVector.fromArray(fs, u, s * dv + j);
                    x0 = us.fma(FloatVector.broadcast(fs, w[s]), x0);
                    x1 = us.fma(FloatVector.broadcast(fs, w[CHUNK + s]), x1);
                    x2 = us.fma(FloatVector.broadcast(fs, w[2 * CHUNK + s]), x2);
                    x3 = us.fma(FloatVector.broadcast(fs, w[3 * CHUNK + s]), x3);
                }
                x0.intoArray(state, row + j);
                x1.intoArray(state, row + dv + j);
                x2.intoArray(state, row + 2 * dv + j);
                x3.intoArray(state, row + 3 * dv + j);
            }
            for (; j < dv; j++) {
                for (int b = 0; b < 4; b++) {
                    carryOne(state, row + b * dv + j, pLast, w, b * CHUNK, u, j, n, dv);
                }
            }
        }
        for (; i < dk; i++) {
            for (int s = 0; s < n; s++) {
                w[s] = d[lastRow + s] * keysT[i * CHUNK + s];
            }
            int row = stateOff + i * dv;
            int j = 0;
            for (; j < vectorEnd; j += step) {
                FloatVector x = FloatVector.fromArray(fs, state, row + j).mul(pLast);
                for (int s = 0; s < n; s++) {
                    x = FloatVector.fromArray(fs, u, s * dv + j).fma(FloatVector.broadcast(fs, w[s]), x);
                }
                x.intoArray(state, row + j);
            }
            for (; j < dv; j++) {
                carryOne(state, row + j, pLast, w, 0, u, j, n, dv);
            }
        }
    }

    private static void carryOne(float[] state, int at, float pLast, float[] w, int wOff, float[] u, int j, int n,
            int dv) {
        float x = state[at] * pLast;
        for (int s = 0; s < n; s++) {
            x = Math.fma(w[wOff + s], u[s * dv + j], x);
        }
        state[at] = x;
    }

    static void causalConv1dSilu(Lanes lanes, float[] out, int outOff, int outStride, float[] x, int xOff,
            int xStride, float[] weight, float[] convState, int stateOff, int nTokens, int channels, int kernel) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int history = kernel - 1;
        // one block's taps as [K][lanes] and its window as [K−1][lanes], so that both load as vectors
        float[] taps = new float[kernel * step];
        float[] window = new float[Math.max(1, history) * step];
        int c = 0;
        for (int bound = fs.loopBound(channels); c < bound; c += step) {
            for (int lane = 0; lane < step; lane++) {
                for (int j = 0; j < kernel; j++) {
                    taps[j * step + lane] = weight[(c + lane) * kernel + j];
                }
            }
            for (int j = 0; j < history; j++) {
                System.arraycopy(convState, stateOff + j * channels + c, window, j * step, step);
            }
            FloatVector last = FloatVector.fromArray(fs, taps, history * step);
            for (int t = 0; t < nTokens; t++) {
                FloatVector input = FloatVector.fromArray(fs, x, xOff + t * xStride + c);
                FloatVector sum = FloatVector.zero(fs);
                for (int j = 0; j < history; j++) {
                    FloatVector tap = FloatVector.fromArray(fs, taps, j * step);
                    sum = tap.fma(FloatVector.fromArray(fs, window, j * step), sum);
                }
                sum = last.fma(input, sum);
                sum.div(Exp.exp(sum.neg()).add(1f)).intoArray(out, outOff + t * outStride + c);
                if (history > 0) {
                    System.arraycopy(window, step, window, 0, (history - 1) * step);
                    input.intoArray(window, (history - 1) * step);
                }
            }
            for (int j = 0; j < history; j++) {
                System.arraycopy(window, j * step, convState, stateOff + j * channels + c, step);
            }
        }
        for (; c < channels; c++) {
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
                out[outOff + t * outStride + c] = sum / (Exp.exp(-sum) + 1f);
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

    static void l2Normalize(Lanes lanes, float[] x, int off, int nHeads, int n, float eps) {
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * n;
            float sumSq = ActivationKernels.dot(lanes, x, base, x, base, n);
            ActivationKernels.scale(lanes, x, base, (float) (1.0 / Math.sqrt(sumSq + eps)), n);
        }
    }

    static void gatedRmsNorm(Lanes lanes, float[] out, int outOff, float[] x, int xOff, float[] z, int zOff,
            float[] weight, int nHeads, int n, float eps) {
        VectorSpecies<Float> fs = lanes.floats();
        int bound = fs.loopBound(n);
        for (int h = 0; h < nHeads; h++) {
            int xb = xOff + h * n;
            int zb = zOff + h * n;
            int ob = outOff + h * n;
            float sumSq = ActivationKernels.dot(lanes, x, xb, x, xb, n);
            float inv = (float) (1.0 / Math.sqrt(sumSq / n + eps));
            int i = 0;
            // the specification's order, weight·(x·inv) then ·silu(z): only the sum of squares and exp differ
            for (; i < bound; i += fs.length()) {
                FloatVector gate = FloatVector.fromArray(fs, z, zb + i);
                FloatVector silu = gate.div(Exp.exp(gate.neg()).add(1f));
                FloatVector normed = FloatVector.fromArray(fs, x, xb + i).mul(inv);
                FloatVector.fromArray(fs, weight, i).mul(normed).mul(silu).intoArray(out, ob + i);
            }
            for (; i < n; i++) {
                float gate = z[zb + i];
                out[ob + i] = weight[i] * (x[xb + i] * inv) * (gate / (Exp.exp(-gate) + 1f));
            }
        }
    }
}
