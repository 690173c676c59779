package dev.moe4j.kernels.quant;

import java.lang.foreign.MemorySegment;

/**
 * The scale searches behind GGML's reference k-quantisers, in float arithmetic evaluated in the same order as
 * GGML's C (no fused multiply-adds), so the chosen scales and quants, and hence the bytes, are the same.
 */
final class KQuants {
    private KQuants() {}

    /** GGML's GROUP_MAX_EPS: a group whose largest magnitude is below it is all zero. */
    static final float GROUP_MAX_EPS = 1e-15f;

    /** Round half to even, as GGML's magic-number rounding (adding 1.5·2^23) does for |v| < 2^22. */
    static int nearestInt(float v) {
        return (int) Math.rint(v);
    }

    static float roundTripHalf(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    /**
     * Symmetric quants L[i] in [0, 2·nmax) for x[xOff, xOff + n) with weights x², trying 19 scales around
     * −nmax / max (max = the value of largest magnitude) and keeping the one with the best weighted fit; returns
     * that scale (0 for an all-zero group).
     */
    static float symmetric(int n, int nmax, float[] x, int xOff, int[] levels, int lOff) {
        float max = 0f;
        float amax = 0f;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xOff + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xOff + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) {
                levels[lOff + i] = 0;
            }
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0f;
        float suml2 = 0f;
        for (int i = 0; i < n; i++) {
            float xi = x[xOff + i];
            int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * xi)));
            levels[lOff + i] = l + nmax;
            float w = xi * xi;
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0f ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = 0f;
            suml2 = 0f;
            for (int i = 0; i < n; i++) {
                float xi = x[xOff + i];
                int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * xi)));
                float w = xi * xi;
                sumlx += w * xi * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0f && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    int l = nearestInt(iscale * x[xOff + i]);
                    levels[lOff + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, l));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /**
     * Affine quants L[i] in [0, nmax] for x[xOff, xOff + n) (w = scale·L − min, min ≥ 0 stored in
     * {@code minOut[minIdx]}), searching nstep + 1 scales from (rmin + nmax) / (max − min) in steps of rdelta and
     * keeping the one with the least weighted squared error; returns the scale.
     */
    static float affine(int n, int nmax, float[] x, int xOff, float[] weights, int[] levels, int lOff, float[] minOut,
            int minIdx, int[] aux, float rmin, float rdelta, int nstep) {
        float min = x[xOff];
        float max = x[xOff];
        float sumW = weights[0];
        float sumX = sumW * x[xOff];
        for (int i = 1; i < n; i++) {
            float xi = x[xOff + i];
            if (xi < min) {
                min = xi;
            }
            if (xi > max) {
                max = xi;
            }
            float w = weights[i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0f) {
            min = 0f;
        }
        if (max == min) {
            for (int i = 0; i < n; i++) {
                levels[lOff + i] = 0;
            }
            minOut[minIdx] = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1f / iscale;
        float bestError = 0f;
        for (int i = 0; i < n; i++) {
            int l = nearestInt(iscale * (x[xOff + i] - min));
            levels[lOff + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * levels[lOff + i] + min - x[xOff + i];
            bestError += weights[i] * (diff * diff);
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0f;
            float sumL2 = 0f;
            float sumXL = 0f;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xOff + i] - min))));
                aux[i] = l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[xOff + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0f) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0f) {
                    thisMin = 0f;
                    thisScale = sumXL / sumL2;
                }
                float error = 0f;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * aux[i] + thisMin - x[xOff + i];
                    error += weights[i] * (diff * diff);
                }
                if (error < bestError) {
                    System.arraycopy(aux, 0, levels, lOff, n);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        minOut[minIdx] = -min;
        return scale;
    }

    /**
     * The shared body of Q4_K and Q5_K: per 32-weight sub-block an affine fit with weights rms + |x|, 6-bit scales
     * and mins relative to the largest, the f16 super-scales at offset and offset + 2, the packed 6-bit pairs at
     * offset + 4, and the final quants (requantised against the stored scales) left in {@code levels}.
     */
    static void affineSuperBlock(float[] x, int xOff, int nmax, float rmin, int nstep, MemorySegment out, long offset,
            int[] levels) {
        float[] scales = new float[8];
        float[] mins = new float[8];
        float[] weights = new float[32];
        int[] aux = new int[32];
        float maxScale = 0f;
        float maxMin = 0f;
        for (int j = 0; j < 8; j++) {
            int base = xOff + 32 * j;
            float sumX2 = 0f;
            for (int l = 0; l < 32; l++) {
                sumX2 += x[base + l] * x[base + l];
            }
            float avX = (float) Math.sqrt(sumX2 / 32f);
            for (int l = 0; l < 32; l++) {
                weights[l] = avX + Math.abs(x[base + l]);
            }
            scales[j] = affine(32, nmax, x, base, weights, levels, 32 * j, mins, j, aux, rmin, 0.1f, nstep);
            if (scales[j] > maxScale) {
                maxScale = scales[j];
            }
            if (mins[j] > maxMin) {
                maxMin = mins[j];
            }
        }
        float invScale = maxScale > 0f ? 63f / maxScale : 0f;
        float invMin = maxMin > 0f ? 63f / maxMin : 0f;
        int[] packed = new int[12];
        int[] ls = new int[8];
        int[] lm = new int[8];
        for (int j = 0; j < 8; j++) {
            // the C stores the rounded value in a uint8 before clamping to 63
            ls[j] = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
            lm[j] = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
            if (j < 4) {
                packed[j] = ls[j];
                packed[j + 4] = lm[j];
            } else {
                packed[j + 4] = (ls[j] & 0xF) | ((lm[j] & 0xF) << 4);
                packed[j - 4] |= (ls[j] >> 4) << 6;
                packed[j] |= (lm[j] >> 4) << 6;
            }
        }
        BlockQuantizer.putHalf(out, offset, maxScale / 63f);
        BlockQuantizer.putHalf(out, offset + 2, maxMin / 63f);
        for (int i = 0; i < 12; i++) {
            BlockQuantizer.putByte(out, offset + 4 + i, packed[i]);
        }
        float d = roundTripHalf(maxScale / 63f);
        float dmin = roundTripHalf(maxMin / 63f);
        for (int j = 0; j < 8; j++) {
            float dj = d * ls[j];
            if (dj == 0f) {
                continue;
            }
            float mj = dmin * lm[j];
            for (int i = 0; i < 32; i++) {
                int l = nearestInt((x[xOff + 32 * j + i] + mj) / dj);
                levels[32 * j + i] = Math.max(0, Math.min(nmax, l));
            }
        }
    }
}
