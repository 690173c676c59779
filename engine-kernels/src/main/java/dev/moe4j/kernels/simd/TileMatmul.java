package dev.moe4j.kernels.simd;

import dev.moe4j.kernels.Matrix;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Products with several tokens, over weights widened to F32 first. A tile of four weight rows is widened once into
 * a scratch array and multiplied with every token, three tokens at a time; the 4×3 sums stay in registers and each
 * pass loads 4 + 3 vectors for 12 FMAs, so the loop is bound by FMAs, not loads. (Blocking the columns for L1, or
 * 16-row blocks sharing each group of tokens, measured no faster.)
 *
 * <p>Each sum w[r]·x[t] follows the <em>canonical order</em>, which the one-token mat-vecs ({@code *Rows}) follow
 * too, so that a token's result does not depend on the tokens batched with it or on how rows are split: with n
 * lanes, w[r][c] as widened by {@code dequantizeRow} is fused-multiply-added into lane c mod n of one accumulator,
 * columns in increasing order, over the columns of whole vectors; the lanes are summed by {@link Lanes#sum}; the
 * remaining columns are added one by one, w·x rounded before the sum.
 */
final class TileMatmul {

    private static final int ROWS = 4;
    private static final int TOKENS = 3;

    private TileMatmul() {}

    /** out[t][r] = w[r]·x[t] for t in [0, nTokens), r in [rowStart, rowEnd). */
    static void matmul(Lanes lanes, float[] out, Matrix w, float[] x, int nTokens, int rowStart, int rowEnd) {
        int cols = w.cols();
        float[] tile = new float[ROWS * cols]; // [ROWS][cols]
        float[] lanesOf = new float[ROWS * TOKENS * lanes.floats().length()]; // [ROWS][TOKENS][lanes]
        float[] sums = new float[ROWS * TOKENS]; // [ROWS][TOKENS]
        for (int row = rowStart; row < rowEnd; row += ROWS) {
            int tileRows = Math.min(ROWS, rowEnd - row);
            for (int i = 0; i < tileRows; i++) {
                VectorKernels.widenRow(lanes, w, row + i, tile, i * cols);
            }
            for (int token = 0; token < nTokens; token += TOKENS) {
                multiplyTile(lanes, out, w.rows(), tile, tileRows, row, x, cols, token,
                        Math.min(TOKENS, nTokens - token), lanesOf, sums);
            }
        }
    }

    /**
     * Sums tile rows [0, tileRows) against tokens [token, token + tileTokens). Missing rows (stale scratch) and
     * missing tokens (a repeat of the last one) are computed like the others but never stored.
     */
    private static void multiplyTile(Lanes lanes, float[] out, int rows, float[] tile, int tileRows, int row,
            float[] x, int cols, int token, int tileTokens, float[] lanesOf, float[] sums) {
        VectorSpecies<Float> fs = lanes.floats();
        int x0 = token * cols;
        int x1 = (token + Math.min(1, tileTokens - 1)) * cols;
        int x2 = (token + Math.min(2, tileTokens - 1)) * cols;
        FloatVector s00 = FloatVector.zero(fs);
        FloatVector s01 = s00;
        FloatVector s02 = s00;
        FloatVector s10 = s00;
        FloatVector s11 = s00;
        FloatVector s12 = s00;
        FloatVector s20 = s00;
        FloatVector s21 = s00;
        FloatVector s22 = s00;
        FloatVector s30 = s00;
        FloatVector s31 = s00;
        FloatVector s32 = s00;
        int bound = fs.loopBound(cols);
        for (int c = 0; c < bound; c += fs.length()) {
            FloatVector w0 = FloatVector.fromArray(fs, tile, c);
            FloatVector w1 = FloatVector.fromArray(fs, tile, cols + c);
            FloatVector w2 = FloatVector.fromArray(fs, tile, 2 * cols + c);
            FloatVector w3 = FloatVector.fromArray(fs, tile, 3 * cols + c);
            FloatVector xv = FloatVector.fromArray(fs, x, x0 + c);
            s00 = w0.fma(xv, s00);
            s10 = w1.fma(xv, s10);
            s20 = w2.fma(xv, s20);
            s30 = w3.fma(xv, s30);
            xv = FloatVector.fromArray(fs, x, x1 + c);
            s01 = w0.fma(xv, s01);
            s11 = w1.fma(xv, s11);
            s21 = w2.fma(xv, s21);
            s31 = w3.fma(xv, s31);
            xv = FloatVector.fromArray(fs, x, x2 + c);
            s02 = w0.fma(xv, s02);
            s12 = w1.fma(xv, s12);
            s22 = w2.fma(xv, s22);
            s32 = w3.fma(xv, s32);
        }
        int n = fs.length();
        if (n == 16) {
            // Lanes.sum's steps inline (see Lanes.Bits512): twelve calls through memory cost as much as the FMAs
            // of a 256-column tile
            s00 = s00.add(s00.rearrange(Lanes.Bits512.ROTATE_8));
            s00 = s00.add(s00.rearrange(Lanes.Bits512.ROTATE_4));
            s00 = s00.add(s00.rearrange(Lanes.Bits512.ROTATE_2));
            s00 = s00.add(s00.rearrange(Lanes.Bits512.ROTATE_1));
            sums[0] = s00.lane(0);
            s01 = s01.add(s01.rearrange(Lanes.Bits512.ROTATE_8));
            s01 = s01.add(s01.rearrange(Lanes.Bits512.ROTATE_4));
            s01 = s01.add(s01.rearrange(Lanes.Bits512.ROTATE_2));
            s01 = s01.add(s01.rearrange(Lanes.Bits512.ROTATE_1));
            sums[1] = s01.lane(0);
            s02 = s02.add(s02.rearrange(Lanes.Bits512.ROTATE_8));
            s02 = s02.add(s02.rearrange(Lanes.Bits512.ROTATE_4));
            s02 = s02.add(s02.rearrange(Lanes.Bits512.ROTATE_2));
            s02 = s02.add(s02.rearrange(Lanes.Bits512.ROTATE_1));
            sums[2] = s02.lane(0);
            s10 = s10.add(s10.rearrange(Lanes.Bits512.ROTATE_8));
            s10 = s10.add(s10.rearrange(Lanes.Bits512.ROTATE_4));
            s10 = s10.add(s10.rearrange(Lanes.Bits512.ROTATE_2));
            s10 = s10.add(s10.rearrange(Lanes.Bits512.ROTATE_1));
            sums[3] = s10.lane(0);
            s11 = s11.add(s11.rearrange(Lanes.Bits512.ROTATE_8));
            s11 = s11.add(s11.rearrange(Lanes.Bits512.ROTATE_4));
            s11 = s11.add(s11.rearrange(Lanes.Bits512.ROTATE_2));
            s11 = s11.add(s11.rearrange(Lanes.Bits512.ROTATE_1));
            sums[4] = s11.lane(0);
            s12 = s12.add(s12.rearrange(Lanes.Bits512.ROTATE_8));
            s12 = s12.add(s12.rearrange(Lanes.Bits512.ROTATE_4));
            s12 = s12.add(s12.rearrange(Lanes.Bits512.ROTATE_2));
            s12 = s12.add(s12.rearrange(Lanes.Bits512.ROTATE_1));
            sums[5] = s12.lane(0);
            s20 = s20.add(s20.rearrange(Lanes.Bits512.ROTATE_8));
            s20 = s20.add(s20.rearrange(Lanes.Bits512.ROTATE_4));
            s20 = s20.add(s20.rearrange(Lanes.Bits512.ROTATE_2));
            s20 = s20.add(s20.rearrange(Lanes.Bits512.ROTATE_1));
            sums[6] = s20.lane(0);
            s21 = s21.add(s21.rearrange(Lanes.Bits512.ROTATE_8));
            s21 = s21.add(s21.rearrange(Lanes.Bits512.ROTATE_4));
            s21 = s21.add(s21.rearrange(Lanes.Bits512.ROTATE_2));
            s21 = s21.add(s21.rearrange(Lanes.Bits512.ROTATE_1));
            sums[7] = s21.lane(0);
            s22 = s22.add(s22.rearrange(Lanes.Bits512.ROTATE_8));
            s22 = s22.add(s22.rearrange(Lanes.Bits512.ROTATE_4));
            s22 = s22.add(s22.rearrange(Lanes.Bits512.ROTATE_2));
            s22 = s22.add(s22.rearrange(Lanes.Bits512.ROTATE_1));
            sums[8] = s22.lane(0);
            s30 = s30.add(s30.rearrange(Lanes.Bits512.ROTATE_8));
            s30 = s30.add(s30.rearrange(Lanes.Bits512.ROTATE_4));
            s30 = s30.add(s30.rearrange(Lanes.Bits512.ROTATE_2));
            s30 = s30.add(s30.rearrange(Lanes.Bits512.ROTATE_1));
            sums[9] = s30.lane(0);
            s31 = s31.add(s31.rearrange(Lanes.Bits512.ROTATE_8));
            s31 = s31.add(s31.rearrange(Lanes.Bits512.ROTATE_4));
            s31 = s31.add(s31.rearrange(Lanes.Bits512.ROTATE_2));
            s31 = s31.add(s31.rearrange(Lanes.Bits512.ROTATE_1));
            sums[10] = s31.lane(0);
            s32 = s32.add(s32.rearrange(Lanes.Bits512.ROTATE_8));
            s32 = s32.add(s32.rearrange(Lanes.Bits512.ROTATE_4));
            s32 = s32.add(s32.rearrange(Lanes.Bits512.ROTATE_2));
            s32 = s32.add(s32.rearrange(Lanes.Bits512.ROTATE_1));
            sums[11] = s32.lane(0);
        } else {
            s00.intoArray(lanesOf, 0);
            s01.intoArray(lanesOf, n);
            s02.intoArray(lanesOf, 2 * n);
            s10.intoArray(lanesOf, 3 * n);
            s11.intoArray(lanesOf, 4 * n);
            s12.intoArray(lanesOf, 5 * n);
            s20.intoArray(lanesOf, 6 * n);
            s21.intoArray(lanesOf, 7 * n);
            s22.intoArray(lanesOf, 8 * n);
            s30.intoArray(lanesOf, 9 * n);
            s31.intoArray(lanesOf, 10 * n);
            s32.intoArray(lanesOf, 11 * n);
            for (int i = 0; i < sums.length; i++) {
                sums[i] = lanes.sum(lanesOf, i * n);
            }
        }
        if (bound < cols) {
            int[] xOff = {x0, x1, x2};
            for (int c = bound; c < cols; c++) {
                for (int r = 0; r < ROWS; r++) {
                    for (int t = 0; t < TOKENS; t++) {
                        sums[r * TOKENS + t] += tile[r * cols + c] * x[xOff[t] + c];
                    }
                }
            }
        }
        for (int r = 0; r < tileRows; r++) {
            for (int t = 0; t < tileTokens; t++) {
                out[(token + t) * rows + row + r] = sums[r * TOKENS + t];
            }
        }
    }
}
