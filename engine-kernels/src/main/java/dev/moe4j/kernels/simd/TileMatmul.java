package dev.moe4j.kernels.simd;

import dev.moe4j.kernels.Matrix;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Products with several tokens, over weights widened to F32 first. A panel of rows (as many tiles of six as fit
 * {@link #PANEL_BYTES}, so it stays in L2) is widened once; then for each group of four tokens, copied into a small
 * padded buffer that stays in L1, every tile of six rows of the panel is multiplied with the group. The 6×4 sums
 * stay in registers (24 of the 32, with 4 activations and 1 weight) and each pass loads 4 + 6 vectors for 24 FMAs.
 * The activations of all tokens do not fit in L2: they stream from L3 once per panel (they did once per six rows
 * until session 4: 45 → 57 GFLOP/s on one Ice Lake core at 3072×1024 × 512 tokens, 69 with the 16-lane tile
 * below). The 6×4 tile measured 1.1-1.4x the 4×3 one with two threads on Zen 4.
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
        int stride = cols + PAD;
        // no larger than the rows asked for (in whole tiles): a MoE expert's product is called for a few rows
        int panelRows = Math.min(panelRows(cols), (rowEnd - rowStart + ROWS - 1) / ROWS * ROWS);
        float[] panel = new float[panelRows * stride]; // [panelRows][stride]
        float[] group = new float[TOKENS * stride]; // [TOKENS][stride]
        float[] lanesOf = new float[ROWS * TOKENS * lanes.floats().length()]; // [ROWS][TOKENS][lanes]
        float[] sums = new float[ROWS * TOKENS]; // [ROWS][TOKENS]
        boolean sixteen = lanes.floats().length() == 16;
        for (int row = rowStart; row < rowEnd; row += panelRows) {
            int rows = Math.min(panelRows, rowEnd - row);
            for (int i = 0; i < rows; i++) {
                VectorKernels.widenRow(lanes, w, row + i, panel, i * stride);
            }
            for (int token = 0; token < nTokens; token += TOKENS) {
                int tileTokens = Math.min(TOKENS, nTokens - token);
                // a missing token repeats the last one: computed like the others, never stored
                for (int t = 0; t < TOKENS; t++) {
                    System.arraycopy(x, (token + Math.min(t, tileTokens - 1)) * cols, group, t * stride, cols);
                }
                for (int r = 0; r < rows; r += ROWS) {
                    if (sixteen) {
                        multiplyTile16(out, w.rows(), panel, r * stride, Math.min(ROWS, rows - r), row + r,
                                group, cols, stride, token, tileTokens, lanesOf, sums);
                    } else {
                        multiplyTile(lanes, out, w.rows(), panel, r * stride, Math.min(ROWS, rows - r), row + r,
                                group, cols, stride, token, tileTokens, lanesOf, sums);
                    }
                }
            }
        }
    }

    /**
     * Floats between rows of the panel and of the token group, past the columns. Rows a multiple of 4 KiB apart
     * share L1 sets and alias in the load/store checks: the 6×4 tile over 64 tokens ran at 79 GFLOP/s on an Ice
     * Lake core unpadded, 96 padded.
     */
    static final int PAD = 16;

    /** Widened weights of one panel, in bytes: the panel stays in L2 while every group of tokens passes over it. */
    static final int PANEL_BYTES = 512 << 10;

    /**
     * Rows widened at a time: as many whole tiles as fit {@link #PANEL_BYTES}, at least one. The activations
     * stream from L3 once per panel rather than once per tile of six rows: over 512 tokens (2 MiB at 1024
     * columns) the tile ran at 58 GFLOP/s against 79-96 with the tokens in L2.
     */
    static int panelRows(int cols) {
        return Math.max(1, PANEL_BYTES / ((cols + PAD) * Float.BYTES) / ROWS) * ROWS;
    }

    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;

    /**
     * {@link #multiplyTile} with 16-lane registers and a constant species (one Ice Lake core, 3072×1024 × 512
     * tokens: 57 GFLOP/s through the generic method, 67-69 here). The 24 sums go through {@code lanesOf} and are
     * reduced by {@link Lanes#sum}'s steps inline: same order, same bits as the generic method.
     */
    private static void multiplyTile16(float[] out, int rows, float[] panel, int tile, int tileRows, int row,
            float[] x, int cols, int stride, int token, int tileTokens, float[] lanesOf, float[] sums) {
        FloatVector s00 = FloatVector.zero(F16);
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
        int bound = cols & ~15;
        for (int c = 0; c < bound; c += 16) {
            FloatVector x0v = FloatVector.fromArray(F16, x, c);
            FloatVector x1v = FloatVector.fromArray(F16, x, stride + c);
            FloatVector x2v = FloatVector.fromArray(F16, x, 2 * stride + c);
            FloatVector x3v = FloatVector.fromArray(F16, x, 3 * stride + c);
            FloatVector v0 = FloatVector.fromArray(F16, panel, tile + c);
            s00 = v0.fma(x0v, s00);
            s01 = v0.fma(x1v, s01);
            s02 = v0.fma(x2v, s02);
            s03 = v0.fma(x3v, s03);
            FloatVector v1 = FloatVector.fromArray(F16, panel, tile + stride + c);
            s10 = v1.fma(x0v, s10);
            s11 = v1.fma(x1v, s11);
            s12 = v1.fma(x2v, s12);
            s13 = v1.fma(x3v, s13);
            FloatVector v2 = FloatVector.fromArray(F16, panel, tile + 2 * stride + c);
            s20 = v2.fma(x0v, s20);
            s21 = v2.fma(x1v, s21);
            s22 = v2.fma(x2v, s22);
            s23 = v2.fma(x3v, s23);
            FloatVector v3 = FloatVector.fromArray(F16, panel, tile + 3 * stride + c);
            s30 = v3.fma(x0v, s30);
            s31 = v3.fma(x1v, s31);
            s32 = v3.fma(x2v, s32);
            s33 = v3.fma(x3v, s33);
            FloatVector v4 = FloatVector.fromArray(F16, panel, tile + 4 * stride + c);
            s40 = v4.fma(x0v, s40);
            s41 = v4.fma(x1v, s41);
            s42 = v4.fma(x2v, s42);
            s43 = v4.fma(x3v, s43);
            FloatVector v5 = FloatVector.fromArray(F16, panel, tile + 5 * stride + c);
            s50 = v5.fma(x0v, s50);
            s51 = v5.fma(x1v, s51);
            s52 = v5.fma(x2v, s52);
            s53 = v5.fma(x3v, s53);
        }
        s00.intoArray(lanesOf, 0);
        s01.intoArray(lanesOf, 16);
        s02.intoArray(lanesOf, 32);
        s03.intoArray(lanesOf, 48);
        s10.intoArray(lanesOf, 64);
        s11.intoArray(lanesOf, 80);
        s12.intoArray(lanesOf, 96);
        s13.intoArray(lanesOf, 112);
        s20.intoArray(lanesOf, 128);
        s21.intoArray(lanesOf, 144);
        s22.intoArray(lanesOf, 160);
        s23.intoArray(lanesOf, 176);
        s30.intoArray(lanesOf, 192);
        s31.intoArray(lanesOf, 208);
        s32.intoArray(lanesOf, 224);
        s33.intoArray(lanesOf, 240);
        s40.intoArray(lanesOf, 256);
        s41.intoArray(lanesOf, 272);
        s42.intoArray(lanesOf, 288);
        s43.intoArray(lanesOf, 304);
        s50.intoArray(lanesOf, 320);
        s51.intoArray(lanesOf, 336);
        s52.intoArray(lanesOf, 352);
        s53.intoArray(lanesOf, 368);
        for (int i = 0; i < ROWS * TOKENS; i++) {
            FloatVector v = FloatVector.fromArray(F16, lanesOf, i * 16);
            v = v.add(v.rearrange(Lanes.Bits512.ROTATE_8));
            v = v.add(v.rearrange(Lanes.Bits512.ROTATE_4));
            v = v.add(v.rearrange(Lanes.Bits512.ROTATE_2));
            v = v.add(v.rearrange(Lanes.Bits512.ROTATE_1));
            sums[i] = v.lane(0);
        }
        finishTile(out, rows, panel, tile, tileRows, row, x, cols, stride, token, tileTokens, sums, bound);
    }

    /**
     * Sums tile rows [0, tileRows) against tokens [token, token + tileTokens). Missing rows (stale scratch) and
     * missing tokens (a repeat of the last one) are computed like the others but never stored.
     */
    private static void multiplyTile(Lanes lanes, float[] out, int rows, float[] panel, int tile, int tileRows,
            int row, float[] x, int cols, int stride, int token, int tileTokens, float[] lanesOf, float[] sums) {
        VectorSpecies<Float> fs = lanes.floats();
        int x0 = 0;
        int x1 = stride;
        int x2 = 2 * stride;
        int x3 = 3 * stride;
        int w0 = tile;
        int w1 = tile + stride;
        int w2 = tile + 2 * stride;
        int w3 = tile + 3 * stride;
        int w4 = tile + 4 * stride;
        int w5 = tile + 5 * stride;
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
            FloatVector v0 = FloatVector.fromArray(fs, panel, w0 + c);
            s00 = v0.fma(x0v, s00);
            s01 = v0.fma(x1v, s01);
            s02 = v0.fma(x2v, s02);
            s03 = v0.fma(x3v, s03);
            FloatVector v1 = FloatVector.fromArray(fs, panel, w1 + c);
            s10 = v1.fma(x0v, s10);
            s11 = v1.fma(x1v, s11);
            s12 = v1.fma(x2v, s12);
            s13 = v1.fma(x3v, s13);
            FloatVector v2 = FloatVector.fromArray(fs, panel, w2 + c);
            s20 = v2.fma(x0v, s20);
            s21 = v2.fma(x1v, s21);
            s22 = v2.fma(x2v, s22);
            s23 = v2.fma(x3v, s23);
            FloatVector v3 = FloatVector.fromArray(fs, panel, w3 + c);
            s30 = v3.fma(x0v, s30);
            s31 = v3.fma(x1v, s31);
            s32 = v3.fma(x2v, s32);
            s33 = v3.fma(x3v, s33);
            FloatVector v4 = FloatVector.fromArray(fs, panel, w4 + c);
            s40 = v4.fma(x0v, s40);
            s41 = v4.fma(x1v, s41);
            s42 = v4.fma(x2v, s42);
            s43 = v4.fma(x3v, s43);
            FloatVector v5 = FloatVector.fromArray(fs, panel, w5 + c);
            s50 = v5.fma(x0v, s50);
            s51 = v5.fma(x1v, s51);
            s52 = v5.fma(x2v, s52);
            s53 = v5.fma(x3v, s53);
        }
        int n = fs.length();
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
        finishTile(out, rows, panel, tile, tileRows, row, x, cols, stride, token, tileTokens, sums, bound);
    }

    /** Adds the columns past the last whole vector one by one, then stores the tile's real rows and tokens. */
    private static void finishTile(float[] out, int rows, float[] panel, int tile, int tileRows, int row,
            float[] x, int cols, int stride, int token, int tileTokens, float[] sums, int bound) {
        if (bound < cols) {
            for (int c = bound; c < cols; c++) {
                for (int r = 0; r < ROWS; r++) {
                    for (int t = 0; t < TOKENS; t++) {
                        sums[r * TOKENS + t] += panel[tile + r * stride + c] * x[t * stride + c];
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
