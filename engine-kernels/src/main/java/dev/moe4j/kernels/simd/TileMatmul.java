package dev.moe4j.kernels.simd;

import dev.moe4j.kernels.DType;
import dev.moe4j.kernels.Matrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Products with several tokens, over weights widened to F32 first. A panel of rows (as many tiles of six as fit
 * {@link #PANEL_BYTES}, so it stays in L2) is widened once; then each group of four tokens (all packed once per
 * call) is multiplied with every tile of six rows of the panel, eight groups at a time per tile where the tile fits
 * L1 ({@link #CHUNK}). The 6×4 sums stay in registers (24 of the 32, with 4 activations and 1 weight) and each pass
 * loads 4 + 6 vectors for 24 FMAs. The activations of all tokens do not fit in L2: they stream from L3 once per panel (they did once per six
 * rows until session 4: 45 → 57 GFLOP/s on one Ice Lake core at 3072×1024 × 512 tokens, 69 with the 16-lane tile
 * below). The 6×4 tile measured 1.1-1.4x the 4×3 one with two threads on Zen 4.
 *
 * <p>Panel and tokens are packed off the heap, 64-byte aligned, in the order the tile reads them: vector s of the
 * six rows (or four tokens) one after the other, then vector s + 1, so that a pass reads from two addresses plus
 * constant offsets and no 512-bit load splits a cache line (see {@link Workspace}). Each thread keeps its scratch
 * between calls; Q4_0 and Q8_0 panels at 16 lanes go into a {@link PanelSlots} slot claimed for the call instead.
 *
 * <p>Each sum w[r]·x[t] follows the <em>canonical order</em>, which the one-token mat-vecs ({@code *Rows}) follow
 * too, so that a token's result does not depend on the tokens batched with it or on how rows are split: with n
 * lanes, w[r][c] as widened by {@code dequantizeRow} is fused-multiply-added into lane c mod n of one accumulator,
 * columns in increasing order, over the columns of whole vectors; the lanes are summed by {@link Lanes#sum}; the
 * remaining columns are added one by one, w·x rounded before the sum.
 */
final class TileMatmul {

    static final int ROWS = 6;
    static final int TOKENS = 4;
    /**
     * Token groups a tile meets in a row, while its widened rows stay in L1 (tiles up to {@link #TILE_L1} bytes: 1024
     * columns): the tile is read from L2 once per 8 groups instead of once per group. Two threads, Q4_0 × 512
     * tokens: 3072×1024 188-202 → 233-237 GFLOP/s, 2048×1024 193-194 → 194-214.
     */
    private static final int CHUNK = 8;
    private static final int TILE_L1 = 24 << 10;

    private TileMatmul() {}

    /** out[t][r] = w[r]·x[t] for t in [0, nTokens), r in [rowStart, rowEnd). */
    static void matmul(Lanes lanes, float[] out, Matrix w, float[] x, int nTokens, int rowStart, int rowEnd) {
        int cols = w.cols();
        int n = lanes.floats().length();
        // no larger than the rows asked for (in whole tiles): a MoE expert's product is called for a few rows
        int panelRows = Math.min(panelRows(cols), (rowEnd - rowStart + ROWS - 1) / ROWS * ROWS);
        long panelBytes = panelRows / ROWS * ((long) ROWS * (cols / n * n) * Float.BYTES);
        Workspace ws = WORKSPACE.get();
        // Q4_0 and Q8_0 rows (whole 16-lane vectors) are widened straight into the packed panel, not through a row
        // and a copy (one core, Q4_0 × 512 tokens, 2048×1024 121 → 126 GFLOP/s), and into a shared slot where one
        // is free (see PanelSlots); otherwise through a row into this thread's own panel
        boolean direct = n == 16 && (w.type() == DType.Q4_0 || w.type() == DType.Q8_0);
        int slot = direct && panelBytes <= PanelSlots.BYTES ? PanelSlots.claim() : -1;
        try {
            MemorySegment panel = slot >= 0 ? PanelSlots.ALL : ws.panel(panelBytes); // [tile][bound / n][ROWS][n]
            long panelAt = slot >= 0 ? PanelSlots.offset(slot) : 0;
            multiply(lanes, out, w, x, nTokens, rowStart, rowEnd, panelRows, panel, panelAt, slot >= 0, ws);
        } finally {
            if (slot >= 0) {
                PanelSlots.release(slot);
            }
        }
    }

    private static void multiply(Lanes lanes, float[] out, Matrix w, float[] x, int nTokens, int rowStart,
            int rowEnd, int panelRows, MemorySegment panel, long panelAt, boolean inSlot, Workspace ws) {
        int cols = w.cols();
        int n = lanes.floats().length();
        int bound = cols / n * n;
        int tail = cols - bound;
        long tileBytes = (long) ROWS * bound * Float.BYTES;
        long groupBytes = (long) TOKENS * bound * Float.BYTES;
        int groups = (nTokens + TOKENS - 1) / TOKENS;
        MemorySegment packed = ws.tokens(groups * groupBytes); // [group][bound / n][TOKENS][n]
        float[] row = ws.row(cols);
        float[] panelTail = ws.panelTail(panelRows * tail); // [panelRows][tail]
        float[] tokensTail = ws.tokensTail(groups * TOKENS * tail); // [group][TOKENS][tail]
        float[] lanesOf = ws.lanesOf(n);
        float[] sums = ws.sums;
        // the tokens are packed once per call (each thread packs its own copy): the copy per panel cost 10-33 % of
        // a 512-token product
        for (int g = 0; g < groups; g++) {
            int tileTokens = Math.min(TOKENS, nTokens - g * TOKENS);
            for (int t = 0; t < TOKENS; t++) {
                // a missing token repeats the last one: computed like the others, never stored
                int from = (g * TOKENS + Math.min(t, tileTokens - 1)) * cols;
                pack(lanes, x, from, bound, packed, g * groupBytes + (long) t * n * Float.BYTES, TOKENS);
                System.arraycopy(x, from + bound, tokensTail, (g * TOKENS + t) * tail, tail);
            }
        }
        boolean sixteen = n == 16;
        int chunk = tileBytes <= TILE_L1 ? CHUNK : 1; // a wider tile would not stay in L1 across the groups
        for (int first = rowStart; first < rowEnd; first += panelRows) {
            int rows = Math.min(panelRows, rowEnd - first);
            for (int i = 0; i < rows; i++) {
                long at = i / ROWS * tileBytes + (long) (i % ROWS) * n * Float.BYTES;
                if (inSlot && w.type() == DType.Q4_0) {
                    Q4_0Rows.widen16(w, first + i, panelAt + at, (long) ROWS * n * Float.BYTES);
                } else if (inSlot) {
                    Q8_0Rows.widen16(w, first + i, panelAt + at, (long) ROWS * n * Float.BYTES);
                } else {
                    VectorKernels.widenRow(lanes, w, first + i, row, 0);
                    pack(lanes, row, 0, bound, panel, at, ROWS);
                    System.arraycopy(row, bound, panelTail, i * tail, tail);
                }
            }
            for (int g0 = 0; g0 < groups; g0 += chunk) {
                int gEnd = Math.min(groups, g0 + chunk);
                for (int r = 0; r < rows; r += ROWS) {
                    long tile = panelAt + r / ROWS * tileBytes;
                    int tileRows = Math.min(ROWS, rows - r);
                    for (int g = g0; g < gEnd; g++) {
                        int tileTokens = Math.min(TOKENS, nTokens - g * TOKENS);
                        long group = g * groupBytes;
                        if (sixteen && tileTokens <= 2) {
                            multiplyTile16Pair(panel, tile, packed, group, bound, lanesOf, sums);
                        } else if (sixteen) {
                            multiplyTile16(panel, tile, packed, group, bound, lanesOf, sums);
                        } else {
                            multiplyTile(lanes, panel, tile, packed, group, bound, lanesOf, sums);
                        }
                        finishTile(out, w.rows(), panelTail, r, tileRows, first + r, tokensTail, g * TOKENS * tail,
                                tail, g * TOKENS, tileTokens, sums);
                    }
                }
            }
        }
    }

    /**
     * Copies src[from, from + bound) into {@code to} one vector at a time: vector s at {@code at + s * interleave}
     * vectors, so that the vectors of {@code interleave} rows alternate.
     */
    static void pack(Lanes lanes, float[] src, int from, int bound, MemorySegment to, long at,
            int interleave) {
        VectorSpecies<Float> fs = lanes.floats();
        int n = fs.length();
        long step = (long) interleave * n * Float.BYTES;
        for (int c = 0; c < bound; c += n, at += step) {
            FloatVector.fromArray(fs, src, from + c).intoMemorySegment(to, at, Storage.LE);
        }
    }

    /**
     * One thread's scratch, kept between calls. The widened panel and the packed tokens live off the heap, aligned to
     * 64 bytes, each tile's vectors in the order the loop reads them: a Java array's elements start 16 bytes past a
     * header at an address the program cannot choose, so every 512-bit load from one split a cache line (one Xeon
     * core, the 6×4 tile over 12 rows × 512 columns: 92-110 GFLOP/s from arrays, 136-142 from the aligned segment).
     */
    static final class Workspace {
        private MemorySegment panel = MemorySegment.NULL;
        private MemorySegment tokens = MemorySegment.NULL;
        private float[] row = new float[0];
        private float[] panelTail = new float[0];
        private float[] tokensTail = new float[0];
        private float[] lanesOf = new float[0];
        final float[] sums = new float[32]; // [ROWS][TOKENS], and room for the 16 floats sum8 writes

        MemorySegment panel(long bytes) {
            return panel = atLeast(panel, bytes);
        }

        MemorySegment tokens(long bytes) {
            return tokens = atLeast(tokens, bytes);
        }

        float[] row(int length) {
            return row = atLeast(row, length);
        }

        float[] panelTail(int length) {
            return panelTail = atLeast(panelTail, length);
        }

        float[] tokensTail(int length) {
            return tokensTail = atLeast(tokensTail, length);
        }

        /** [ROWS][TOKENS][n] */
        float[] lanesOf(int n) {
            return lanesOf = atLeast(lanesOf, ROWS * TOKENS * n);
        }

        /** {@code segment}, or a new aligned one if it holds fewer than {@code bytes} (the attention scratch too). */
        static MemorySegment atLeast(MemorySegment segment, long bytes) {
            return segment.byteSize() >= bytes ? segment : Arena.ofAuto().allocate(bytes, ALIGNMENT);
        }

        private static float[] atLeast(float[] array, int length) {
            return array.length >= length ? array : new float[length];
        }
    }

    private static final long ALIGNMENT = 64;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    /** Widened weights of one panel, in bytes: the panel stays in L2 while every group of tokens passes over it. */
    static final int PANEL_BYTES = 512 << 10;

    /**
     * Rows widened at a time: as many whole tiles as fit {@link #PANEL_BYTES}, at least one. The activations
     * stream from L3 once per panel rather than once per tile of six rows: over 512 tokens (2 MiB at 1024
     * columns) the tile ran at 58 GFLOP/s against 79-96 with the tokens in L2.
     */
    static int panelRows(int cols) {
        return Math.max(1, PANEL_BYTES / (cols * Float.BYTES) / ROWS) * ROWS;
    }

    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
    private static final Lanes.Bits512 SIXTEEN = new Lanes.Bits512();

    /**
     * {@link #multiplyTile} with 16-lane registers and a constant species (one Ice Lake core, 3072×1024 × 512
     * tokens: 57 GFLOP/s through the generic method, 67-69 here). The 24 sums go through {@code lanesOf} and are
     * reduced by {@link Lanes.Bits512#sum16} and {@link Lanes.Bits512#sum8}: same order, same bits as the generic
     * method.
     */
    private static void multiplyTile16(MemorySegment panel, long tile, MemorySegment group, long groupAt, int bound,
            float[] lanesOf, float[] sums) {
        final long vector = 16 * Float.BYTES;
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
        for (int c = 0; c < bound; c += 16) {
            long wi = tile + c * (ROWS * (long) Float.BYTES);
            long xi = groupAt + c * (TOKENS * (long) Float.BYTES);
            FloatVector x0v = FloatVector.fromMemorySegment(F16, group, xi, Storage.LE);
            FloatVector x1v = FloatVector.fromMemorySegment(F16, group, xi + 1 * vector, Storage.LE);
            FloatVector x2v = FloatVector.fromMemorySegment(F16, group, xi + 2 * vector, Storage.LE);
            FloatVector x3v = FloatVector.fromMemorySegment(F16, group, xi + 3 * vector, Storage.LE);
            FloatVector v0 = FloatVector.fromMemorySegment(F16, panel, wi, Storage.LE);
            s00 = v0.fma(x0v, s00);
            s01 = v0.fma(x1v, s01);
            s02 = v0.fma(x2v, s02);
            s03 = v0.fma(x3v, s03);
            FloatVector v1 = FloatVector.fromMemorySegment(F16, panel, wi + 1 * vector, Storage.LE);
            s10 = v1.fma(x0v, s10);
            s11 = v1.fma(x1v, s11);
            s12 = v1.fma(x2v, s12);
            s13 = v1.fma(x3v, s13);
            FloatVector v2 = FloatVector.fromMemorySegment(F16, panel, wi + 2 * vector, Storage.LE);
            s20 = v2.fma(x0v, s20);
            s21 = v2.fma(x1v, s21);
            s22 = v2.fma(x2v, s22);
            s23 = v2.fma(x3v, s23);
            FloatVector v3 = FloatVector.fromMemorySegment(F16, panel, wi + 3 * vector, Storage.LE);
            s30 = v3.fma(x0v, s30);
            s31 = v3.fma(x1v, s31);
            s32 = v3.fma(x2v, s32);
            s33 = v3.fma(x3v, s33);
            FloatVector v4 = FloatVector.fromMemorySegment(F16, panel, wi + 4 * vector, Storage.LE);
            s40 = v4.fma(x0v, s40);
            s41 = v4.fma(x1v, s41);
            s42 = v4.fma(x2v, s42);
            s43 = v4.fma(x3v, s43);
            FloatVector v5 = FloatVector.fromMemorySegment(F16, panel, wi + 5 * vector, Storage.LE);
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
        // transposed reductions in Lanes.sum's order, one over 16 registers and one over 8 (it writes 16 slots):
        // 6 % of a 2048×1024 product against 10 % for 24 rotation sums (the 16-lane Ice Lake kernel's 67-69 figure
        // above was with those)
        SIXTEEN.sum16(lanesOf, 0, sums, 0);
        SIXTEEN.sum8(lanesOf, 16 * 16, sums, 16);
    }

    /**
     * {@link #multiplyTile16} for the first two tokens of the group only: a last group of one or two tokens (a MoE
     * expert sees about 32 tokens, so a quarter of its groups are short: 4.7 % of the experts' FMAs went to repeated
     * tokens). Sums of tokens 2 and 3 are left stale, as the caller stores only the tokens it has; the others are
     * computed exactly as there.
     */
    private static void multiplyTile16Pair(MemorySegment panel, long tile, MemorySegment group, long groupAt,
            int bound, float[] lanesOf, float[] sums) {
        final long vector = 16 * Float.BYTES;
        FloatVector s00 = FloatVector.zero(F16);
        FloatVector s01 = s00;
        FloatVector s10 = s00;
        FloatVector s11 = s00;
        FloatVector s20 = s00;
        FloatVector s21 = s00;
        FloatVector s30 = s00;
        FloatVector s31 = s00;
        FloatVector s40 = s00;
        FloatVector s41 = s00;
        FloatVector s50 = s00;
        FloatVector s51 = s00;
        for (int c = 0; c < bound; c += 16) {
            long wi = tile + c * (ROWS * (long) Float.BYTES);
            long xi = groupAt + c * (TOKENS * (long) Float.BYTES);
            FloatVector x0v = FloatVector.fromMemorySegment(F16, group, xi, Storage.LE);
            FloatVector x1v = FloatVector.fromMemorySegment(F16, group, xi + vector, Storage.LE);
            FloatVector v0 = FloatVector.fromMemorySegment(F16, panel, wi, Storage.LE);
            s00 = v0.fma(x0v, s00);
            s01 = v0.fma(x1v, s01);
            FloatVector v1 = FloatVector.fromMemorySegment(F16, panel, wi + 1 * vector, Storage.LE);
            s10 = v1.fma(x0v, s10);
            s11 = v1.fma(x1v, s11);
            FloatVector v2 = FloatVector.fromMemorySegment(F16, panel, wi + 2 * vector, Storage.LE);
            s20 = v2.fma(x0v, s20);
            s21 = v2.fma(x1v, s21);
            FloatVector v3 = FloatVector.fromMemorySegment(F16, panel, wi + 3 * vector, Storage.LE);
            s30 = v3.fma(x0v, s30);
            s31 = v3.fma(x1v, s31);
            FloatVector v4 = FloatVector.fromMemorySegment(F16, panel, wi + 4 * vector, Storage.LE);
            s40 = v4.fma(x0v, s40);
            s41 = v4.fma(x1v, s41);
            FloatVector v5 = FloatVector.fromMemorySegment(F16, panel, wi + 5 * vector, Storage.LE);
            s50 = v5.fma(x0v, s50);
            s51 = v5.fma(x1v, s51);
        }
        // the [ROWS][TOKENS] layout of multiplyTile16, reduced the same way
        s00.intoArray(lanesOf, 0);
        s01.intoArray(lanesOf, 16);
        s10.intoArray(lanesOf, 64);
        s11.intoArray(lanesOf, 80);
        s20.intoArray(lanesOf, 128);
        s21.intoArray(lanesOf, 144);
        s30.intoArray(lanesOf, 192);
        s31.intoArray(lanesOf, 208);
        s40.intoArray(lanesOf, 256);
        s41.intoArray(lanesOf, 272);
        s50.intoArray(lanesOf, 320);
        s51.intoArray(lanesOf, 336);
        SIXTEEN.sum16(lanesOf, 0, sums, 0);
        SIXTEEN.sum8(lanesOf, 16 * 16, sums, 16);
    }

    /**
     * The sums of one packed tile of ROWS rows with one packed group of TOKENS tokens over the columns [0, bound), into
     * sums[ROWS][TOKENS], each in the canonical order ({@link AttentionKernels} uses it for a query group's scores).
     */
    static void tile(Lanes lanes, MemorySegment panel, long tile, MemorySegment group, long groupAt, int bound,
            float[] lanesOf, float[] sums) {
        if (lanes.floats().length() == 16) {
            multiplyTile16(panel, tile, group, groupAt, bound, lanesOf, sums);
        } else {
            multiplyTile(lanes, panel, tile, group, groupAt, bound, lanesOf, sums);
        }
    }

    /**
     * Sums of the packed tile at {@code tile} (its ROWS rows) with the packed token group, over columns [0, bound),
     * into sums[ROWS][TOKENS]. Missing rows (stale scratch) and missing tokens (a repeat of the last one) are
     * computed like the others and never stored.
     */
    private static void multiplyTile(Lanes lanes, MemorySegment panel, long tile, MemorySegment group, long groupAt,
            int bound, float[] lanesOf, float[] sums) {
        VectorSpecies<Float> fs = lanes.floats();
        int n = fs.length();
        long vector = (long) n * Float.BYTES;
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
        for (int c = 0; c < bound; c += n) {
            long wi = tile + c * (ROWS * (long) Float.BYTES);
            long xi = groupAt + c * (TOKENS * (long) Float.BYTES);
            FloatVector x0v = FloatVector.fromMemorySegment(fs, group, xi, Storage.LE);
            FloatVector x1v = FloatVector.fromMemorySegment(fs, group, xi + 1 * vector, Storage.LE);
            FloatVector x2v = FloatVector.fromMemorySegment(fs, group, xi + 2 * vector, Storage.LE);
            FloatVector x3v = FloatVector.fromMemorySegment(fs, group, xi + 3 * vector, Storage.LE);
            FloatVector v0 = FloatVector.fromMemorySegment(fs, panel, wi, Storage.LE);
            s00 = v0.fma(x0v, s00);
            s01 = v0.fma(x1v, s01);
            s02 = v0.fma(x2v, s02);
            s03 = v0.fma(x3v, s03);
            FloatVector v1 = FloatVector.fromMemorySegment(fs, panel, wi + 1 * vector, Storage.LE);
            s10 = v1.fma(x0v, s10);
            s11 = v1.fma(x1v, s11);
            s12 = v1.fma(x2v, s12);
            s13 = v1.fma(x3v, s13);
            FloatVector v2 = FloatVector.fromMemorySegment(fs, panel, wi + 2 * vector, Storage.LE);
            s20 = v2.fma(x0v, s20);
            s21 = v2.fma(x1v, s21);
            s22 = v2.fma(x2v, s22);
            s23 = v2.fma(x3v, s23);
            FloatVector v3 = FloatVector.fromMemorySegment(fs, panel, wi + 3 * vector, Storage.LE);
            s30 = v3.fma(x0v, s30);
            s31 = v3.fma(x1v, s31);
            s32 = v3.fma(x2v, s32);
            s33 = v3.fma(x3v, s33);
            FloatVector v4 = FloatVector.fromMemorySegment(fs, panel, wi + 4 * vector, Storage.LE);
            s40 = v4.fma(x0v, s40);
            s41 = v4.fma(x1v, s41);
            s42 = v4.fma(x2v, s42);
            s43 = v4.fma(x3v, s43);
            FloatVector v5 = FloatVector.fromMemorySegment(fs, panel, wi + 5 * vector, Storage.LE);
            s50 = v5.fma(x0v, s50);
            s51 = v5.fma(x1v, s51);
            s52 = v5.fma(x2v, s52);
            s53 = v5.fma(x3v, s53);
        }
        s00.intoArray(lanesOf, 0 * n);
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
        for (int i = 0; i < ROWS * TOKENS; i++) {
            sums[i] = lanes.sum(lanesOf, i * n);
        }
    }

    /**
     * Adds the columns past the last whole vector one by one (rows from {@code panelTail} starting at panel row
     * {@code r}, tokens from {@code tokensTail} at {@code groupTail}), then stores the tile's real rows and tokens.
     */
    private static void finishTile(float[] out, int rows, float[] panelTail, int r, int tileRows, int row,
            float[] tokensTail, int groupTail, int tail, int token, int tileTokens, float[] sums) {
        if (tail == 0 && tileRows == ROWS && tileTokens == TOKENS) {
            // the common case, straight-line: the general loops below took 7 % of a 2048×1024 product
            for (int t = 0; t < TOKENS; t++) {
                int o = (token + t) * rows + row;
                out[o] = sums[t];
                out[o + 1] = sums[TOKENS + t];
                out[o + 2] = sums[2 * TOKENS + t];
                out[o + 3] = sums[3 * TOKENS + t];
                out[o + 4] = sums[4 * TOKENS + t];
                out[o + 5] = sums[5 * TOKENS + t];
            }
            return;
        }
        for (int c = 0; c < tail; c++) {
            for (int i = 0; i < tileRows; i++) {
                for (int t = 0; t < TOKENS; t++) {
                    sums[i * TOKENS + t] += panelTail[(r + i) * tail + c] * tokensTail[groupTail + t * tail + c];
                }
            }
        }
        for (int i = 0; i < tileRows; i++) {
            for (int t = 0; t < tileTokens; t++) {
                out[(token + t) * rows + row + i] = sums[i * TOKENS + t];
            }
        }
    }
}
