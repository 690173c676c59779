package dev.moe4j.kernels.simd;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link dev.moe4j.kernels.KernelProvider#attend}: one query head over its cached positions in one call. Scores
 * are computed four positions per pass, sharing each load of the query; the weighted sum of values keeps four
 * vectors of the output in registers across all positions instead of reading and writing it per position.
 *
 * <p>Each score follows one order whatever the position count: lane i of an accumulator sums q[c]·k[c] for
 * c ≡ i (mod lanes) in increasing c, the lanes are summed by {@link Lanes#sum}, the columns past the last whole
 * vector are added one by one. So a query gets the same bits in a batch of many tokens as alone.
 */
final class AttentionKernels {

    private AttentionKernels() {}

    /**
     * Scores, softmax, weighted sum of values. Three calls, not one method: inlined into the large score loop, the
     * softmax's {@link Exp} (which takes a vector) ran out of C2's inlining budget, was called with a boxed vector
     * and ran in the Vector API's Java fallback, 7 % of a prefill (JFR). The two loops are too large for C2 to
     * inline here, so the softmax is parsed in this small method, with its exp inlined.
     */
    static void attend(Lanes lanes, float[] out, int outOff, float[] q, int qOff, float[] keys, float[] values,
            int[] rows, int headOff, int len, int n, float scale, float[] scores) {
        scores(lanes, q, qOff, keys, rows, headOff, 0, len, n, scale, scores, 0);
        ActivationKernels.softmax(lanes, scores, 0, len);
        weightedSum(lanes, out, outOff, values, rows, headOff, len, n, scores, 0, 0);
    }

    /** scores[sOff + p] = scale·(q · key p), for the positions p in [from, len). */
    private static void scores(Lanes lanes, float[] q, int qOff, float[] keys, int[] rows, int headOff, int from,
            int len, int n, float scale, float[] scores, int sOff) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int bound = fs.loopBound(n);
        float[] lanesOf = new float[4 * step];
        int p = from;
        for (; p + 4 <= len; p += 4) {
            int k0 = rows[p] + headOff;
            int k1 = rows[p + 1] + headOff;
            int k2 = rows[p + 2] + headOff;
            int k3 = rows[p + 3] + headOff;
            FloatVector acc0 = FloatVector.zero(fs);
            FloatVector acc1 = acc0;
            FloatVector acc2 = acc0;
            FloatVector acc3 = acc0;
            for (int c = 0; c < bound; c += step) {
                FloatVector qv = FloatVector.fromArray(fs, q, qOff + c);
                acc0 = FloatVector.fromArray(fs, keys, k0 + c).fma(qv, acc0);
                acc1 = FloatVector.fromArray(fs, keys, k1 + c).fma(qv, acc1);
                acc2 = FloatVector.fromArray(fs, keys, k2 + c).fma(qv, acc2);
                acc3 = FloatVector.fromArray(fs, keys, k3 + c).fma(qv, acc3);
            }
            float sum0;
            float sum1;
            float sum2;
            float sum3;
            if (step == 16) {
                // Lanes.sum's steps inline (see Lanes.Bits512): the call through memory doubled the cost
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_8));
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_4));
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_2));
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_1));
                sum0 = acc0.lane(0);
                acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_8));
                acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_4));
                acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_2));
                acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_1));
                sum1 = acc1.lane(0);
                acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_8));
                acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_4));
                acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_2));
                acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_1));
                sum2 = acc2.lane(0);
                acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_8));
                acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_4));
                acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_2));
                acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_1));
                sum3 = acc3.lane(0);
            } else {
                acc0.intoArray(lanesOf, 0);
                acc1.intoArray(lanesOf, step);
                acc2.intoArray(lanesOf, 2 * step);
                acc3.intoArray(lanesOf, 3 * step);
                sum0 = lanes.sum(lanesOf, 0);
                sum1 = lanes.sum(lanesOf, step);
                sum2 = lanes.sum(lanesOf, 2 * step);
                sum3 = lanes.sum(lanesOf, 3 * step);
            }
            scores[sOff + p] = tail(sum0, q, qOff, keys, k0, bound, n) * scale;
            scores[sOff + p + 1] = tail(sum1, q, qOff, keys, k1, bound, n) * scale;
            scores[sOff + p + 2] = tail(sum2, q, qOff, keys, k2, bound, n) * scale;
            scores[sOff + p + 3] = tail(sum3, q, qOff, keys, k3, bound, n) * scale;
        }
        for (; p < len; p++) {
            int k0 = rows[p] + headOff;
            FloatVector acc0 = FloatVector.zero(fs);
            for (int c = 0; c < bound; c += step) {
                acc0 = FloatVector.fromArray(fs, keys, k0 + c).fma(FloatVector.fromArray(fs, q, qOff + c), acc0);
            }
            float sum0;
            if (step == 16) {
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_8));
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_4));
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_2));
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_1));
                sum0 = acc0.lane(0);
            } else {
                acc0.intoArray(lanesOf, 0);
                sum0 = lanes.sum(lanesOf, 0);
            }
            scores[sOff + p] = tail(sum0, q, qOff, keys, k0, bound, n) * scale;
        }
    }

    /**
     * out[c] = Σ_p scores[sOff + p]·value p [c] over the positions p in [0, len), for the columns c in [fromCol, n);
     * {@code fromCol} is 0 or where {@link #weightedSum4} left the columns to this method.
     */
    private static void weightedSum(Lanes lanes, float[] out, int outOff, float[] values, int[] rows, int headOff,
            int len, int n, float[] scores, int sOff, int fromCol) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int bound = fs.loopBound(n);
        int p;
        int c = fromCol;
        for (; c + 4 * step <= bound; c += 4 * step) {
            FloatVector o0 = FloatVector.zero(fs);
            FloatVector o1 = o0;
            FloatVector o2 = o0;
            FloatVector o3 = o0;
            for (p = 0; p < len; p++) {
                FloatVector s = FloatVector.broadcast(fs, scores[sOff + p]);
                int v = rows[p] + headOff + c;
                o0 = FloatVector.fromArray(fs, values, v).fma(s, o0);
                o1 = FloatVector.fromArray(fs, values, v + step).fma(s, o1);
                o2 = FloatVector.fromArray(fs, values, v + 2 * step).fma(s, o2);
                o3 = FloatVector.fromArray(fs, values, v + 3 * step).fma(s, o3);
            }
            o0.intoArray(out, outOff + c);
            o1.intoArray(out, outOff + c + step);
            o2.intoArray(out, outOff + c + 2 * step);
            o3.intoArray(out, outOff + c + 3 * step);
        }
        for (; c < bound; c += step) {
            FloatVector o0 = FloatVector.zero(fs);
            for (p = 0; p < len; p++) {
                FloatVector s = FloatVector.broadcast(fs, scores[sOff + p]);
                o0 = FloatVector.fromArray(fs, values, rows[p] + headOff + c).fma(s, o0);
            }
            o0.intoArray(out, outOff + c);
        }
        for (; c < n; c++) {
            float sum = 0;
            for (p = 0; p < len; p++) {
                sum = Math.fma(scores[sOff + p], values[rows[p] + headOff + c], sum);
            }
            out[outOff + c] = sum;
        }
    }

    /**
     * {@link dev.moe4j.kernels.KernelProvider#attend(float[], int[], float[], int[], int[], int, float[], float[],
     * int[], int, int, float, float[])}: several queries over one head's positions. The keys and values of the
     * positions are first copied into aligned scratch (a Java array's 512-bit loads split cache lines), the keys in
     * {@link TileMatmul}'s panel layout; then the queries go four at a time, packed as one token group. Over the
     * positions all four see, six positions × four queries of scores come from {@link TileMatmul#tile}, whose sums
     * are in the order {@link #scores} gives one score, and each value vector is loaded once for the four weighted
     * sums. A query gets the same bits in a group as alone. (One query at a time read every key from L2 once per
     * query: a 512-token prefill's attention ran at ~45 cycles a score; four queries reading the cache directly,
     * ~28.)
     */
    static void attend(Lanes lanes, float[] out, int[] outOffs, float[] q, int[] qOffs, int[] lens, int count,
            float[] keys, float[] values, int[] rows, int headOff, int n, float scale, float[] scores) {
        int first = 0;
        if (count >= TileMatmul.TOKENS) {
            VectorSpecies<Float> fs = lanes.floats();
            int step = fs.length();
            int bound = fs.loopBound(n);
            int longest = 0;
            for (int i = 0; i < count; i++) {
                longest = Math.max(longest, lens[i]);
            }
            int rowsOf = TileMatmul.ROWS;
            long tileBytes = (long) rowsOf * bound * Float.BYTES;
            Workspace ws = WORKSPACE.get();
            MemorySegment panel = ws.keys((longest + rowsOf - 1) / rowsOf * tileBytes); // [tile][bound/step][6][step]
            MemorySegment vals = ws.values((long) longest * bound * Float.BYTES); // [position][bound]
            MemorySegment group = ws.group((long) TileMatmul.TOKENS * bound * Float.BYTES); // [bound/step][4][step]
            for (int p = 0; p < longest; p++) {
                int row = rows[p] + headOff;
                TileMatmul.pack(lanes, keys, row, bound, panel,
                        p / rowsOf * tileBytes + (long) (p % rowsOf) * step * Float.BYTES, rowsOf);
                MemorySegment.copy(values, row, vals, Storage.LE_FLOAT, (long) p * bound * Float.BYTES, bound);
            }
            for (; first + TileMatmul.TOKENS <= count; first += TileMatmul.TOKENS) {
                scores4(lanes, q, qOffs, lens, first, keys, rows, headOff, n, scale, scores, longest, panel, tileBytes,
                        group, ws);
                softmaxes(lanes, scores, longest, lens, first, 4);
                weightedSum4(lanes, out, outOffs, values, rows, headOff, lens, first, n, scores, longest, vals);
            }
        }
        for (int i = first; i < count; i++) {
            scores(lanes, q, qOffs[i], keys, rows, headOff, 0, lens[i], n, scale, scores, 0);
            ActivationKernels.softmax(lanes, scores, 0, lens[i]);
            weightedSum(lanes, out, outOffs[i], values, rows, headOff, lens[i], n, scores, 0, 0);
        }
    }

    /**
     * Scores of the four queries from {@code first} into scores[j·stride, +lens[first + j]): whole tiles of six
     * positions below their shortest length from the packed keys, the rest one score at a time.
     */
    private static void scores4(Lanes lanes, float[] q, int[] qOffs, int[] lens, int first, float[] keys,
            int[] rows, int headOff, int n, float scale, float[] scores, int stride, MemorySegment panel,
            long tileBytes, MemorySegment group, Workspace ws) {
        int step = lanes.floats().length();
        int bound = lanes.floats().loopBound(n);
        int tokens = TileMatmul.TOKENS;
        int rowsOf = TileMatmul.ROWS;
        int common = Integer.MAX_VALUE;
        for (int j = 0; j < tokens; j++) {
            TileMatmul.pack(lanes, q, qOffs[first + j], bound, group, (long) j * step * Float.BYTES, tokens);
            common = Math.min(common, lens[first + j]);
        }
        int tiled = common / rowsOf * rowsOf;
        float[] lanesOf = ws.lanesOf(step);
        float[] sums = ws.sums;
        for (int p = 0; p < tiled; p += rowsOf) {
            TileMatmul.tile(lanes, panel, p / rowsOf * tileBytes, group, 0, bound, lanesOf, sums);
            for (int i = 0; i < rowsOf; i++) {
                int key = rows[p + i] + headOff;
                for (int j = 0; j < tokens; j++) {
                    float sum = tail(sums[i * tokens + j], q, qOffs[first + j], keys, key, bound, n);
                    scores[j * stride + p + i] = sum * scale;
                }
            }
        }
        for (int j = 0; j < tokens; j++) {
            scores(lanes, q, qOffs[first + j], keys, rows, headOff, tiled, lens[first + j], n, scale, scores,
                    j * stride);
        }
    }

    /**
     * Softmax of the {@code count} queries' scores from {@code first}, at scores[j·stride, +lens[first + j]). Its
     * own small method, like {@link #attend}'s one-query call: inlined into {@link #scores4}, the softmax's
     * {@link Exp} ran out of C2's inlining budget there and ran in the Vector API's Java fallback in some runs
     * (a third of attention's time).
     */
    private static void softmaxes(Lanes lanes, float[] scores, int stride, int[] lens, int first, int count) {
        for (int j = 0; j < count; j++) {
            ActivationKernels.softmax(lanes, scores, j * stride, lens[first + j]);
        }
    }

    /**
     * Four queries' weighted sums of values, out_j[c] = Σ_p w_j[p]·value p [c] with w_j = scores[j·stride, ...), from
     * the packed values ({@code vals}, [position][bound]): over the positions [0, common) that all four see, each
     * value vector is loaded once for the four; each query then goes on alone to its own length, in the same
     * accumulators, so every column is summed in increasing p as in {@link #weightedSum}. Columns past the last
     * whole 4-vector block are left to {@link #weightedSum}.
     */
    private static void weightedSum4(Lanes lanes, float[] out, int[] outOffs, float[] values, int[] rows,
            int headOff, int[] lens, int first, int n, float[] scores, int stride, MemorySegment vals) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int bound = fs.loopBound(n);
        long rowBytes = (long) bound * Float.BYTES;
        long vector = (long) step * Float.BYTES;
        int common = Math.min(Math.min(lens[first], lens[first + 1]), Math.min(lens[first + 2], lens[first + 3]));
        int w1 = stride;
        int w2 = 2 * stride;
        int w3 = 3 * stride;
        int c = 0;
        for (; c + 4 * step <= bound; c += 4 * step) {
            FloatVector o00 = FloatVector.zero(fs);
            FloatVector o01 = o00;
            FloatVector o02 = o00;
            FloatVector o03 = o00;
            FloatVector o10 = o00;
            FloatVector o11 = o00;
            FloatVector o12 = o00;
            FloatVector o13 = o00;
            FloatVector o20 = o00;
            FloatVector o21 = o00;
            FloatVector o22 = o00;
            FloatVector o23 = o00;
            FloatVector o30 = o00;
            FloatVector o31 = o00;
            FloatVector o32 = o00;
            FloatVector o33 = o00;
            long v = (long) c * Float.BYTES;
            int p = 0;
            for (; p < common; p++, v += rowBytes) {
                FloatVector v0 = FloatVector.fromMemorySegment(fs, vals, v, Storage.LE);
                FloatVector v1 = FloatVector.fromMemorySegment(fs, vals, v + vector, Storage.LE);
                FloatVector v2 = FloatVector.fromMemorySegment(fs, vals, v + 2 * vector, Storage.LE);
                FloatVector v3 = FloatVector.fromMemorySegment(fs, vals, v + 3 * vector, Storage.LE);
                FloatVector s = FloatVector.broadcast(fs, scores[p]);
                o00 = v0.fma(s, o00);
                o01 = v1.fma(s, o01);
                o02 = v2.fma(s, o02);
                o03 = v3.fma(s, o03);
                s = FloatVector.broadcast(fs, scores[w1 + p]);
                o10 = v0.fma(s, o10);
                o11 = v1.fma(s, o11);
                o12 = v2.fma(s, o12);
                o13 = v3.fma(s, o13);
                s = FloatVector.broadcast(fs, scores[w2 + p]);
                o20 = v0.fma(s, o20);
                o21 = v1.fma(s, o21);
                o22 = v2.fma(s, o22);
                o23 = v3.fma(s, o23);
                s = FloatVector.broadcast(fs, scores[w3 + p]);
                o30 = v0.fma(s, o30);
                o31 = v1.fma(s, o31);
                o32 = v2.fma(s, o32);
                o33 = v3.fma(s, o33);
            }
            long from = v;
            v = from;
            for (p = common; p < lens[first]; p++, v += rowBytes) {
                FloatVector s = FloatVector.broadcast(fs, scores[p]);
                o00 = FloatVector.fromMemorySegment(fs, vals, v, Storage.LE).fma(s, o00);
                o01 = FloatVector.fromMemorySegment(fs, vals, v + vector, Storage.LE).fma(s, o01);
                o02 = FloatVector.fromMemorySegment(fs, vals, v + 2 * vector, Storage.LE).fma(s, o02);
                o03 = FloatVector.fromMemorySegment(fs, vals, v + 3 * vector, Storage.LE).fma(s, o03);
            }
            v = from;
            for (p = common; p < lens[first + 1]; p++, v += rowBytes) {
                FloatVector s = FloatVector.broadcast(fs, scores[w1 + p]);
                o10 = FloatVector.fromMemorySegment(fs, vals, v, Storage.LE).fma(s, o10);
                o11 = FloatVector.fromMemorySegment(fs, vals, v + vector, Storage.LE).fma(s, o11);
                o12 = FloatVector.fromMemorySegment(fs, vals, v + 2 * vector, Storage.LE).fma(s, o12);
                o13 = FloatVector.fromMemorySegment(fs, vals, v + 3 * vector, Storage.LE).fma(s, o13);
            }
            v = from;
            for (p = common; p < lens[first + 2]; p++, v += rowBytes) {
                FloatVector s = FloatVector.broadcast(fs, scores[w2 + p]);
                o20 = FloatVector.fromMemorySegment(fs, vals, v, Storage.LE).fma(s, o20);
                o21 = FloatVector.fromMemorySegment(fs, vals, v + vector, Storage.LE).fma(s, o21);
                o22 = FloatVector.fromMemorySegment(fs, vals, v + 2 * vector, Storage.LE).fma(s, o22);
                o23 = FloatVector.fromMemorySegment(fs, vals, v + 3 * vector, Storage.LE).fma(s, o23);
            }
            v = from;
            for (p = common; p < lens[first + 3]; p++, v += rowBytes) {
                FloatVector s = FloatVector.broadcast(fs, scores[w3 + p]);
                o30 = FloatVector.fromMemorySegment(fs, vals, v, Storage.LE).fma(s, o30);
                o31 = FloatVector.fromMemorySegment(fs, vals, v + vector, Storage.LE).fma(s, o31);
                o32 = FloatVector.fromMemorySegment(fs, vals, v + 2 * vector, Storage.LE).fma(s, o32);
                o33 = FloatVector.fromMemorySegment(fs, vals, v + 3 * vector, Storage.LE).fma(s, o33);
            }
            int o = outOffs[first] + c;
            o00.intoArray(out, o);
            o01.intoArray(out, o + step);
            o02.intoArray(out, o + 2 * step);
            o03.intoArray(out, o + 3 * step);
            o = outOffs[first + 1] + c;
            o10.intoArray(out, o);
            o11.intoArray(out, o + step);
            o12.intoArray(out, o + 2 * step);
            o13.intoArray(out, o + 3 * step);
            o = outOffs[first + 2] + c;
            o20.intoArray(out, o);
            o21.intoArray(out, o + step);
            o22.intoArray(out, o + 2 * step);
            o23.intoArray(out, o + 3 * step);
            o = outOffs[first + 3] + c;
            o30.intoArray(out, o);
            o31.intoArray(out, o + step);
            o32.intoArray(out, o + 2 * step);
            o33.intoArray(out, o + 3 * step);
        }
        if (c < n) {
            for (int j = 0; j < 4; j++) {
                weightedSum(lanes, out, outOffs[first + j], values, rows, headOff, lens[first + j], n, scores,
                        j * stride, c);
            }
        }
    }

    /**
     * {@link dev.moe4j.kernels.KernelProvider#attendInColumnOrder}: several queries over one head's positions, each
     * score one fma chain over the head's columns in order, on {@link ColumnTile}. The positions' keys are transposed
     * into panels of 4n positions ([column][4n]) and their values into panels of 4n columns ([position][4n]); the
     * queries go six at a time. Scores: for each panel of positions, 24 registers of sums over the columns with the
     * six queries broadcast straight from q; no sums across lanes. Weighted sums: the same tile with the panels of
     * values, the six queries' softmax weights as its tokens, over the positions all six see; each query then goes on
     * alone to its own length in the same chain. Both chains are those of the scalar twin, so a query's bits do not
     * depend on the queries beside it.
     */
    static void attendInColumnOrder(Lanes lanes, float[] out, int[] outOffs, float[] q, int[] qOffs, int[] lens,
            int count, float[] keys, float[] values, int[] rows, int headOff, int n, float scale) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int tileRows = ColumnTile.VECTORS * step;
        int longest = 0;
        for (int i = 0; i < count; i++) {
            longest = Math.max(longest, lens[i]);
        }
        int positionTiles = (longest + tileRows - 1) / tileRows;
        int columnTiles = (n + tileRows - 1) / tileRows;
        long panelColumn = (long) tileRows * Float.BYTES;
        long keyPanel = n * panelColumn; // [column][tileRows] for one panel of positions
        long valuePanel = longest * panelColumn; // [position][tileRows] for one panel of columns
        ColumnWorkspace ws = COLUMN_WORKSPACE.get();
        MemorySegment kt = ws.keys = TileMatmul.Workspace.atLeast(ws.keys, positionTiles * keyPanel);
        MemorySegment vt = ws.values = TileMatmul.Workspace.atLeast(ws.values, columnTiles * valuePanel);
        for (int p = 0; p < longest; p++) {
            int row = rows[p] + headOff;
            long at = p / tileRows * keyPanel + (long) (p % tileRows) * Float.BYTES;
            for (int c = 0; c < n; c++) {
                kt.set(Storage.LE_FLOAT, at + c * panelColumn, keys[row + c]);
            }
            for (int t = 0; t < columnTiles; t++) {
                int from = t * tileRows;
                MemorySegment.copy(values, row + from, vt, Storage.LE_FLOAT, t * valuePanel + p * panelColumn,
                        Math.min(tileRows, n - from));
            }
        }
        int tokens = ColumnTile.TOKENS;
        int stride = positionTiles * tileRows;
        int width = columnTiles * tileRows;
        float[] scores = ws.scores = atLeast(ws.scores, tokens * stride);
        float[] sums = ws.sums = atLeast(ws.sums, tokens * width);
        int[] of = new int[tokens];
        for (int first = 0; first < count; first += tokens) {
            // a last group of fewer queries repeats its last one: the same sums, in a row of their own
            int shortest = Integer.MAX_VALUE;
            int groupLongest = 0;
            for (int j = 0; j < tokens; j++) {
                of[j] = Math.min(first + j, count - 1);
                shortest = Math.min(shortest, lens[of[j]]);
                groupLongest = Math.max(groupLongest, lens[of[j]]);
            }
            for (int t = 0; t * tileRows < groupLongest; t++) {
                int o = t * tileRows;
                tile(lanes, kt, t * keyPanel, n, q, qOffs[of[0]], qOffs[of[1]], qOffs[of[2]], qOffs[of[3]],
                        qOffs[of[4]], qOffs[of[5]], scores, o, stride + o, 2 * stride + o, 3 * stride + o,
                        4 * stride + o, 5 * stride + o);
            }
            for (int j = 0; j < tokens; j++) {
                ActivationKernels.scale(lanes, scores, j * stride, scale, lens[of[j]]);
                ActivationKernels.softmax(lanes, scores, j * stride, lens[of[j]]);
            }
            for (int t = 0; t < columnTiles; t++) {
                int o = t * tileRows;
                tile(lanes, vt, t * valuePanel, shortest, scores, 0, stride, 2 * stride, 3 * stride, 4 * stride,
                        5 * stride, sums, o, width + o, 2 * width + o, 3 * width + o, 4 * width + o, 5 * width + o);
            }
            for (int j = 0; j < tokens && first + j < count; j++) {
                for (int p = shortest; p < lens[of[j]]; p++) {
                    FloatVector s = FloatVector.broadcast(fs, scores[j * stride + p]);
                    for (int t = 0; t < columnTiles; t++) {
                        long at = t * valuePanel + p * panelColumn;
                        for (int v = 0; v < ColumnTile.VECTORS; v++) {
                            int o = j * width + t * tileRows + v * step;
                            FloatVector.fromMemorySegment(fs, vt, at + (long) v * step * Float.BYTES, Storage.LE)
                                    .fma(s, FloatVector.fromArray(fs, sums, o)).intoArray(sums, o);
                        }
                    }
                }
                System.arraycopy(sums, j * width, out, outOffs[first + j], n);
            }
        }
    }

    /** The six-token column-order tile at this width, starting its sums from zero. */
    private static void tile(Lanes lanes, MemorySegment panel, long panelAt, int width, float[] x, int x0, int x1,
            int x2, int x3, int x4, int x5, float[] dst, int o0, int o1, int o2, int o3, int o4, int o5) {
        if (lanes.floats().length() == 16) {
            ColumnTile.tile16(panel, panelAt, width, x, 0, x0, x1, x2, x3, x4, x5, dst, o0, o1, o2, o3, o4, o5, true);
        } else {
            ColumnTile.tile(lanes, panel, panelAt, width, x, 0, x0, x1, x2, x3, x4, x5, dst, o0, o1, o2, o3, o4, o5,
                    true);
        }
    }

    private static float[] atLeast(float[] a, int length) {
        return a.length >= length ? a : new float[length];
    }

    /** One thread's scratch for {@link #attendInColumnOrder}, kept between calls. */
    private static final class ColumnWorkspace {
        MemorySegment keys = MemorySegment.NULL;
        MemorySegment values = MemorySegment.NULL;
        float[] scores = new float[0];
        float[] sums = new float[0];
    }

    private static final ThreadLocal<ColumnWorkspace> COLUMN_WORKSPACE = ThreadLocal.withInitial(ColumnWorkspace::new);

    /** One thread's aligned scratch for {@link #attend} with several queries, kept between calls. */
    private static final class Workspace {
        private MemorySegment keys = MemorySegment.NULL;
        private MemorySegment values = MemorySegment.NULL;
        private MemorySegment group = MemorySegment.NULL;
        private float[] lanesOf = new float[0];
        final float[] sums = new float[32]; // [ROWS][TOKENS], and room for the 16 floats Lanes.Bits512.sum8 writes

        MemorySegment keys(long bytes) {
            return keys = TileMatmul.Workspace.atLeast(keys, bytes);
        }

        MemorySegment values(long bytes) {
            return values = TileMatmul.Workspace.atLeast(values, bytes);
        }

        MemorySegment group(long bytes) {
            return group = TileMatmul.Workspace.atLeast(group, bytes);
        }

        float[] lanesOf(int step) {
            if (lanesOf.length < TileMatmul.ROWS * TileMatmul.TOKENS * step) {
                lanesOf = new float[TileMatmul.ROWS * TileMatmul.TOKENS * step];
            }
            return lanesOf;
        }
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    /** {@code sum} plus q[c]·k[c] for the columns [from, n) past the last whole vector, one by one. */
    private static float tail(float sum, float[] q, int qOff, float[] keys, int kOff, int from, int n) {
        for (int c = from; c < n; c++) {
            sum += q[qOff + c] * keys[kOff + c];
        }
        return sum;
    }
}
