package dev.moe4j.kernels.simd;

import dev.moe4j.kernels.Matrix;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Products with several tokens, over weights widened to F32 first. A tile of six weight rows is widened once into
 * a scratch array and multiplied with every token, four tokens at a time; the 6×4 sums stay in registers (24 of the
 * 32, with 4 activations and 1 weight) and each pass loads 4 + 6 vectors for 24 FMAs. The activations of all tokens
 * do not fit in L2 and stream again for every tile, so the taller tile, reading them once per six rows, measured
 * 1.1-1.4x the 4×3 one with two threads (4×4 and 5×4 in between), although in L1 alone 4×3 is as fast. (Blocking
 * the columns for L1, or 16-row blocks sharing each group of tokens, measured no faster.)
 *
 * <p>Each sum w[r]·x[t] follows the <em>canonical order</em>, which the one-token mat-vecs ({@code *Rows}) follow
 * too, so that a token's result does not depend on the tokens batched with it or on how rows are split: with n
 * lanes, w[r][c] as widened by {@code dequantizeRow} is fused-multiply-added into lane c mod n of one accumulator,
 * columns in increasing order, over the columns of whole vectors; the lanes are summed by {@link Lanes#sum}; the
 * remaining columns are added one by one, w·x rounded before the sum.
 */
final class TileMatmul {

    private static final int ROWS = 6;
    private static final int TOKENS = 4;

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
        int x3 = (token + Math.min(3, tileTokens - 1)) * cols;
        FloatVector s00 = FloatVector.zero(fs);
        FloatVector s01 = s00;
        FloatVector s02 = s00;
        FloatVector s03 = s00;
        FloatVector s10 = s00;
        FloatVector s11 = s00;
        FloatVector s12 = s00;
        FloatVector s13 = s00;
        FloatVector s20 = s00;
        FloatVector s21 = s00;
        FloatVector s22 = s00;
        FloatVector s23 = s00;
        FloatVector s30 = s00;
        FloatVector s31 = s00;
        FloatVector s32 = s00;
        FloatVector s33 = s00;
        FloatVector s40 = s00;
        FloatVector s41 = s00;
        FloatVector s42 = s00;
        FloatVector s43 = s00;
        FloatVector s50 = s00;
        FloatVector s51 = s00;
        FloatVector s52 = s00;
        FloatVector s53 = s00;
        int bound = fs.loopBound(cols);
        for (int c = 0; c < bound; c += fs.length()) {
            FloatVector x0v = FloatVector.fromArray(fs, x, x0 + c);
            FloatVector x1v = FloatVector.fromArray(fs, x, x1 + c);
            FloatVector x2v = FloatVector.fromArray(fs, x, x2 + c);
            FloatVector x3v = FloatVector.fromArray(fs, x, x3 + c);
            FloatVector w0 = FloatVector.fromArray(fs, tile, c);
            s00 = w0.fma(x0v, s00);
            s01 = w0.fma(x1v, s01);
            s02 = w0.fma(x2v, s02);
            s03 = w0.fma(x3v, s03);
            FloatVector w1 = FloatVector.fromArray(fs, tile, cols + c);
            s10 = w1.fma(x0v, s10);
            s11 = w1.fma(x1v, s11);
            s12 = w1.fma(x2v, s12);
            s13 = w1.fma(x3v, s13);
            FloatVector w2 = FloatVector.fromArray(fs, tile, 2 * cols + c);
            s20 = w2.fma(x0v, s20);
            s21 = w2.fma(x1v, s21);
            s22 = w2.fma(x2v, s22);
            s23 = w2.fma(x3v, s23);
            FloatVector w3 = FloatVector.fromArray(fs, tile, 3 * cols + c);
            s30 = w3.fma(x0v, s30);
            s31 = w3.fma(x1v, s31);
            s32 = w3.fma(x2v, s32);
            s33 = w3.fma(x3v, s33);
            FloatVector w4 = FloatVector.fromArray(fs, tile, 4 * cols + c);
            s40 = w4.fma(x0v, s40);
            s41 = w4.fma(x1v, s41);
            s42 = w4.fma(x2v, s42);
            s43 = w4.fma(x3v, s43);
            FloatVector w5 = FloatVector.fromArray(fs, tile, 5 * cols + c);
            s50 = w5.fma(x0v, s50);
            s51 = w5.fma(x1v, s51);
            s52 = w5.fma(x2v, s52);
            s53 = w5.fma(x3v, s53);
        }
        int n = fs.length();
        if (n == 16) {
            // Lanes.sum's steps inline (see Lanes.Bits512): the calls through memory cost as much as the FMAs
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
            s03 = s03.add(s03.rearrange(Lanes.Bits512.ROTATE_8));
            s03 = s03.add(s03.rearrange(Lanes.Bits512.ROTATE_4));
            s03 = s03.add(s03.rearrange(Lanes.Bits512.ROTATE_2));
            s03 = s03.add(s03.rearrange(Lanes.Bits512.ROTATE_1));
            sums[3] = s03.lane(0);
            s10 = s10.add(s10.rearrange(Lanes.Bits512.ROTATE_8));
            s10 = s10.add(s10.rearrange(Lanes.Bits512.ROTATE_4));
            s10 = s10.add(s10.rearrange(Lanes.Bits512.ROTATE_2));
            s10 = s10.add(s10.rearrange(Lanes.Bits512.ROTATE_1));
            sums[4] = s10.lane(0);
            s11 = s11.add(s11.rearrange(Lanes.Bits512.ROTATE_8));
            s11 = s11.add(s11.rearrange(Lanes.Bits512.ROTATE_4));
            s11 = s11.add(s11.rearrange(Lanes.Bits512.ROTATE_2));
            s11 = s11.add(s11.rearrange(Lanes.Bits512.ROTATE_1));
            sums[5] = s11.lane(0);
            s12 = s12.add(s12.rearrange(Lanes.Bits512.ROTATE_8));
            s12 = s12.add(s12.rearrange(Lanes.Bits512.ROTATE_4));
            s12 = s12.add(s12.rearrange(Lanes.Bits512.ROTATE_2));
            s12 = s12.add(s12.rearrange(Lanes.Bits512.ROTATE_1));
            sums[6] = s12.lane(0);
            s13 = s13.add(s13.rearrange(Lanes.Bits512.ROTATE_8));
            s13 = s13.add(s13.rearrange(Lanes.Bits512.ROTATE_4));
            s13 = s13.add(s13.rearrange(Lanes.Bits512.ROTATE_2));
            s13 = s13.add(s13.rearrange(Lanes.Bits512.ROTATE_1));
            sums[7] = s13.lane(0);
            s20 = s20.add(s20.rearrange(Lanes.Bits512.ROTATE_8));
            s20 = s20.add(s20.rearrange(Lanes.Bits512.ROTATE_4));
            s20 = s20.add(s20.rearrange(Lanes.Bits512.ROTATE_2));
            s20 = s20.add(s20.rearrange(Lanes.Bits512.ROTATE_1));
            sums[8] = s20.lane(0);
            s21 = s21.add(s21.rearrange(Lanes.Bits512.ROTATE_8));
            s21 = s21.add(s21.rearrange(Lanes.Bits512.ROTATE_4));
            s21 = s21.add(s21.rearrange(Lanes.Bits512.ROTATE_2));
            s21 = s21.add(s21.rearrange(Lanes.Bits512.ROTATE_1));
            sums[9] = s21.lane(0);
            s22 = s22.add(s22.rearrange(Lanes.Bits512.ROTATE_8));
            s22 = s22.add(s22.rearrange(Lanes.Bits512.ROTATE_4));
            s22 = s22.add(s22.rearrange(Lanes.Bits512.ROTATE_2));
            s22 = s22.add(s22.rearrange(Lanes.Bits512.ROTATE_1));
            sums[10] = s22.lane(0);
            s23 = s23.add(s23.rearrange(Lanes.Bits512.ROTATE_8));
            s23 = s23.add(s23.rearrange(Lanes.Bits512.ROTATE_4));
            s23 = s23.add(s23.rearrange(Lanes.Bits512.ROTATE_2));
            s23 = s23.add(s23.rearrange(Lanes.Bits512.ROTATE_1));
            sums[11] = s23.lane(0);
            s30 = s30.add(s30.rearrange(Lanes.Bits512.ROTATE_8));
            s30 = s30.add(s30.rearrange(Lanes.Bits512.ROTATE_4));
            s30 = s30.add(s30.rearrange(Lanes.Bits512.ROTATE_2));
            s30 = s30.add(s30.rearrange(Lanes.Bits512.ROTATE_1));
            sums[12] = s30.lane(0);
            s31 = s31.add(s31.rearrange(Lanes.Bits512.ROTATE_8));
            s31 = s31.add(s31.rearrange(Lanes.Bits512.ROTATE_4));
            s31 = s31.add(s31.rearrange(Lanes.Bits512.ROTATE_2));
            s31 = s31.add(s31.rearrange(Lanes.Bits512.ROTATE_1));
            sums[13] = s31.lane(0);
            s32 = s32.add(s32.rearrange(Lanes.Bits512.ROTATE_8));
            s32 = s32.add(s32.rearrange(Lanes.Bits512.ROTATE_4));
            s32 = s32.add(s32.rearrange(Lanes.Bits512.ROTATE_2));
            s32 = s32.add(s32.rearrange(Lanes.Bits512.ROTATE_1));
            sums[14] = s32.lane(0);
            s33 = s33.add(s33.rearrange(Lanes.Bits512.ROTATE_8));
            s33 = s33.add(s33.rearrange(Lanes.Bits512.ROTATE_4));
            s33 = s33.add(s33.rearrange(Lanes.Bits512.ROTATE_2));
            s33 = s33.add(s33.rearrange(Lanes.Bits512.ROTATE_1));
            sums[15] = s33.lane(0);
            s40 = s40.add(s40.rearrange(Lanes.Bits512.ROTATE_8));
            s40 = s40.add(s40.rearrange(Lanes.Bits512.ROTATE_4));
            s40 = s40.add(s40.rearrange(Lanes.Bits512.ROTATE_2));
            s40 = s40.add(s40.rearrange(Lanes.Bits512.ROTATE_1));
            sums[16] = s40.lane(0);
            s41 = s41.add(s41.rearrange(Lanes.Bits512.ROTATE_8));
            s41 = s41.add(s41.rearrange(Lanes.Bits512.ROTATE_4));
            s41 = s41.add(s41.rearrange(Lanes.Bits512.ROTATE_2));
            s41 = s41.add(s41.rearrange(Lanes.Bits512.ROTATE_1));
            sums[17] = s41.lane(0);
            s42 = s42.add(s42.rearrange(Lanes.Bits512.ROTATE_8));
            s42 = s42.add(s42.rearrange(Lanes.Bits512.ROTATE_4));
            s42 = s42.add(s42.rearrange(Lanes.Bits512.ROTATE_2));
            s42 = s42.add(s42.rearrange(Lanes.Bits512.ROTATE_1));
            sums[18] = s42.lane(0);
            s43 = s43.add(s43.rearrange(Lanes.Bits512.ROTATE_8));
            s43 = s43.add(s43.rearrange(Lanes.Bits512.ROTATE_4));
            s43 = s43.add(s43.rearrange(Lanes.Bits512.ROTATE_2));
            s43 = s43.add(s43.rearrange(Lanes.Bits512.ROTATE_1));
            sums[19] = s43.lane(0);
            s50 = s50.add(s50.rearrange(Lanes.Bits512.ROTATE_8));
            s50 = s50.add(s50.rearrange(Lanes.Bits512.ROTATE_4));
            s50 = s50.add(s50.rearrange(Lanes.Bits512.ROTATE_2));
            s50 = s50.add(s50.rearrange(Lanes.Bits512.ROTATE_1));
            sums[20] = s50.lane(0);
            s51 = s51.add(s51.rearrange(Lanes.Bits512.ROTATE_8));
            s51 = s51.add(s51.rearrange(Lanes.Bits512.ROTATE_4));
            s51 = s51.add(s51.rearrange(Lanes.Bits512.ROTATE_2));
            s51 = s51.add(s51.rearrange(Lanes.Bits512.ROTATE_1));
            sums[21] = s51.lane(0);
            s52 = s52.add(s52.rearrange(Lanes.Bits512.ROTATE_8));
            s52 = s52.add(s52.rearrange(Lanes.Bits512.ROTATE_4));
            s52 = s52.add(s52.rearrange(Lanes.Bits512.ROTATE_2));
            s52 = s52.add(s52.rearrange(Lanes.Bits512.ROTATE_1));
            sums[22] = s52.lane(0);
            s53 = s53.add(s53.rearrange(Lanes.Bits512.ROTATE_8));
            s53 = s53.add(s53.rearrange(Lanes.Bits512.ROTATE_4));
            s53 = s53.add(s53.rearrange(Lanes.Bits512.ROTATE_2));
            s53 = s53.add(s53.rearrange(Lanes.Bits512.ROTATE_1));
            sums[23] = s53.lane(0);
        } else {
            s00.intoArray(lanesOf, 0);
            s01.intoArray(lanesOf, 1 * n);
            s02.intoArray(lanesOf, 2 * n);
            s03.intoArray(lanesOf, 3 * n);
            s10.intoArray(lanesOf, 4 * n);
            s11.intoArray(lanesOf, 5 * n);
            s12.intoArray(lanesOf, 6 * n);
            s13.intoArray(lanesOf, 7 * n);
            s20.intoArray(lanesOf, 8 * n);
            s21.intoArray(lanesOf, 9 * n);
            s22.intoArray(lanesOf, 10 * n);
            s23.intoArray(lanesOf, 11 * n);
            s30.intoArray(lanesOf, 12 * n);
            s31.intoArray(lanesOf, 13 * n);
            s32.intoArray(lanesOf, 14 * n);
            s33.intoArray(lanesOf, 15 * n);
            s40.intoArray(lanesOf, 16 * n);
            s41.intoArray(lanesOf, 17 * n);
            s42.intoArray(lanesOf, 18 * n);
            s43.intoArray(lanesOf, 19 * n);
            s50.intoArray(lanesOf, 20 * n);
            s51.intoArray(lanesOf, 21 * n);
            s52.intoArray(lanesOf, 22 * n);
            s53.intoArray(lanesOf, 23 * n);
            for (int i = 0; i < sums.length; i++) {
                sums[i] = lanes.sum(lanesOf, i * n);
            }
        }
        if (bound < cols) {
            int[] xOff = {x0, x1, x2, x3};
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
