package dev.moe4j.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * A matrix's copy in the layout its rounded-activation products read ({@link Matrix#withRoundedActivations()}):
 * rows in groups of {@link #ROWS}, one row a 16-bit lane, for products of up to {@link #MAX_TOKENS} tokens.
 */
public sealed interface RoundedForm permits Q4_0Rounded, Q4_KRounded {

    /** Rows per group: one per 16-bit lane of a 512-bit register. */
    int ROWS = 32;

    /**
     * Tokens up to which a product rounds its activations (a decode step of up to this many sequences): each
     * token's result is the one-token product's, whatever the batch.
     */
    int MAX_TOKENS = 4;

    int rows();

    int cols();

    /** The copy's bytes, {@code [group][block]}; the implementing class says what a group's block holds. */
    MemorySegment data();

    /** Rows [from, from + count) as a form of their own (a view); {@code from} starts a group. */
    RoundedForm rowSlice(int from, int count);

    /** Fills one row's part of a group's block: {@code from[at]} is the row's block, lane {@code l} its place. */
    interface RowBlock {
        void fill(byte[] from, int at, int l, byte[] to, int row, int block);
    }

    /**
     * Copies {@code w} (either layout) into native memory as {@code [group][block]} of {@code groupBlockBytes}, each
     * made by {@code rowBlock} for the group's rows (a last group of fewer rows is padded with zeros); groups in
     * parallel, a group's rows, contiguous in either layout, in one bulk read.
     */
    static MemorySegment repack(Matrix w, int groupBlockBytes, RowBlock rowBlock) {
        int blocks = w.blocksPerRow();
        int groups = (w.rows() + ROWS - 1) / ROWS;
        MemorySegment out = WeightMemory.allocate(Math.multiplyExact((long) groups * blocks, groupBlockBytes));
        MemorySegment data = w.data();
        long rowBytes = w.rowBytes();
        IntStream.range(0, groups).parallel().forEach(g -> {
            int first = g * ROWS;
            int inGroup = Math.min(ROWS, w.rows() - first);
            byte[] from = new byte[Math.toIntExact(inGroup * rowBytes)];
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, first * rowBytes, from, 0, from.length);
            long base = first * rowBytes;
            byte[] to = new byte[groupBlockBytes];
            for (int b = 0; b < blocks; b++) {
                for (int l = 0; l < inGroup; l++) {
                    rowBlock.fill(from, (int) (w.blockOffset(first + l, b) - base), l, to, first + l, b);
                }
                MemorySegment.copy(to, 0, out, ValueLayout.JAVA_BYTE, ((long) g * blocks + b) * groupBlockBytes,
                        to.length);
            }
        });
        return out;
    }

    /** The bytes of rows [from, from + count) of a form's {@code data}, checked to start and end at groups. */
    static MemorySegment slice(MemorySegment data, int rows, int blocks, int groupBlockBytes, int from, int count) {
        Objects.checkFromIndexSize(from, count, rows);
        if (from % ROWS != 0 || (count % ROWS != 0 && from + count != rows)) {
            throw new IllegalArgumentException("rows [" + from + ", " + (from + count)
                    + ") split a group of " + ROWS + " rows of the rounded-activation form");
        }
        long first = (long) from / ROWS * blocks;
        long groups = (count + ROWS - 1) / ROWS;
        return data.asSlice(first * groupBlockBytes, groups * blocks * groupBlockBytes);
    }
}
