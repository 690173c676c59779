package dev.moe4j.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * A read-only weight matrix {@code [rows][cols]} in little-endian storage of type {@code type}, usually a view over
 * a memory-mapped model file.
 *
 * <p>Two layouts hold the same blocks (for F32/F16/BF16 a "block" is one value): {@linkplain #rowGroup() row group}
 * 1 is the files' row-major order, row {@code r} at byte {@code r * rowBytes()}; row group {@link #GROUP} (Q8_0, Q4_0,
 * Q4_K and Q6_K, made by {@link #interleaved()}) keeps each run of 4 rows in the same {@code 4 * rowBytes()} bytes but
 * stores their blocks interleaved: block 0 of each of the 4 rows, then block 1 of each, and so on (the last run may
 * have fewer rows). A mat-vec over 4 rows then reads one contiguous stream instead of four, which the hardware
 * prefetchers follow at several times the speed. Kernels address blocks through {@link #blockOffset} and
 * {@link #blockStride}, which cover both layouts.
 *
 * <p>An interleaved Q8_0 or Q4_0 matrix also carries {@link #scales()}: each block's f16 scale {@code d} widened to
 * a float (exactly), in storage order. The 16-lane mat-vecs broadcast a scale straight from memory instead of
 * converting a half per block and row, a third of the Q4_0 loop's permute-port work (in L2, one core of an
 * AVX-512 Intel Xeon: Q4_0 14.0 → 17.0 Gweights/s, Q8_0 15.6 → 16.7). The blocks themselves are unchanged.
 *
 * @param scales null, or (interleaved Q8_0 / Q4_0 only) the float scale of the block at byte offset {@code o} of
 *     {@code data} at float index {@code o / type.blockBytes()}, exactly its f16 scale widened: the 16-lane
 *     mat-vecs read these instead of the blocks' halves, so only {@link #interleaved()} and {@link #rowSlice}
 *     should make them (the constructor checks their size, not their values)
 * @param rounded null, or (Q4_0 and Q4_K) the same matrix in the form products of up to 4 tokens take with rounded
 *     activations ({@link #withRoundedActivations()}); larger products sum {@code data}'s widened rows, Q4_0's in
 *     column order
 */
public record Matrix(String name, MemorySegment data, DType type, int rows, int cols, int rowGroup,
        MemorySegment scales, RoundedForm rounded) {

    /** Rows per interleaved group. */
    public static final int GROUP = 4;

    private static final ValueLayout.OfFloat SCALE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public Matrix {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(type, "type");
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(name + ": shape [" + rows + "][" + cols + "] must be positive");
        }
        if (rowGroup != 1 && rowGroup != GROUP) {
            throw new IllegalArgumentException(name + ": row group " + rowGroup + " is not 1 or " + GROUP);
        }
        if (rowGroup != 1 && !interleavable(type)) {
            throw new IllegalArgumentException(
                    name + ": only Q8_0, Q4_0, Q4_K and Q6_K are stored interleaved, not " + type);
        }
        long expected = Math.multiplyExact((long) rows, type.bytesFor(cols));
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException(name + ": " + type + " [" + rows + "][" + cols + "] needs "
                    + expected + " bytes, storage has " + data.byteSize());
        }
        if (scales != null) {
            if (rowGroup != GROUP || !hasWidenedScales(type)) {
                throw new IllegalArgumentException(
                        name + ": only interleaved Q8_0 and Q4_0 matrices carry widened scales, not " + type
                                + " in row group " + rowGroup);
            }
            long blocks = expected / type.blockBytes();
            if (scales.byteSize() != blocks * Float.BYTES) {
                throw new IllegalArgumentException(name + ": " + blocks + " blocks need " + blocks * Float.BYTES
                        + " bytes of scales, storage has " + scales.byteSize());
            }
        }
        if (rounded != null && (type != roundedType(rounded) || rounded.rows() != rows || rounded.cols() != cols)) {
            throw new IllegalArgumentException(name + ": a rounded-activation form of [" + rounded.rows() + "]["
                    + rounded.cols() + "] does not fit " + type + " [" + rows + "][" + cols + "]");
        }
    }

    private static DType roundedType(RoundedForm form) {
        return switch (form) {
            case Q4_0Rounded q -> DType.Q4_0;
            case Q4_KRounded q -> DType.Q4_K;
        };
    }

    /** A matrix without a rounded-activation form. */
    public Matrix(String name, MemorySegment data, DType type, int rows, int cols, int rowGroup,
            MemorySegment scales) {
        this(name, data, type, rows, cols, rowGroup, scales, null);
    }

    /**
     * This Q4_0 or Q4_K matrix with its rounded-activation form made (copied into native memory): its products of up
     * to {@link RoundedForm#MAX_TOKENS} tokens then round the activations to 9 bits per block ({@link Q4_0Rounded}:
     * 32 values, {@link Q4_KRounded}: 256; llama.cpp rounds to 8) and multiply in 16-bit integer lanes. Larger
     * products keep F32 activations; Q4_0's sum in column order ({@link Q4_0Rounded#matmulScalar}), faster than the
     * canonical lane order, Q4_K's as by default. A rounded product does not give the default product's bits.
     *
     * @throws IllegalArgumentException for types other than Q4_0 and Q4_K
     */
    public Matrix withRoundedActivations() {
        if (rounded != null) {
            return this;
        }
        RoundedForm form = switch (type) {
            case Q4_0 -> Q4_0Rounded.of(this);
            case Q4_K -> Q4_KRounded.of(this);
            default -> throw new IllegalArgumentException(
                    name + ": rounded activations are for Q4_0 and Q4_K matrices, not " + type);
        };
        return new Matrix(name, data, type, rows, cols, rowGroup, scales, form);
    }

    /** Whether a product of {@code nTokens} tokens with this matrix rounds its activations ({@link Q4_0Rounded}). */
    public boolean roundsActivations(int nTokens) {
        return rounded != null && nTokens <= RoundedForm.MAX_TOKENS;
    }

    /**
     * Whether a product of {@code nTokens} tokens with this matrix sums in column order ({@link
     * Q4_0Rounded#matmulScalar}): the rounded-activation form's products of more than {@link Q4_0Rounded#MAX_TOKENS}.
     */
    public boolean sumsInColumnOrder(int nTokens) {
        return rounded instanceof Q4_0Rounded && nTokens > RoundedForm.MAX_TOKENS;
    }

    /** Whether {@link #interleaved()} also widens this type's block scales ({@link #scales()}). */
    static boolean hasWidenedScales(DType type) {
        return type == DType.Q8_0 || type == DType.Q4_0;
    }

    /** A matrix in {@code rowGroup} layout without widened scales. */
    public Matrix(String name, MemorySegment data, DType type, int rows, int cols, int rowGroup) {
        this(name, data, type, rows, cols, rowGroup, null);
    }

    /** Whether {@link #interleaved()} takes this type: those whose mat-vecs read interleaved storage fastest. */
    public static boolean interleavable(DType type) {
        return type == DType.Q8_0 || type == DType.Q4_0 || type == DType.Q4_K || type == DType.Q6_K;
    }

    /** A matrix in the files' row-major layout. */
    public Matrix(String name, MemorySegment data, DType type, int rows, int cols) {
        this(name, data, type, rows, cols, 1, null);
    }

    public long rowBytes() {
        return type.bytesFor(cols);
    }

    /** Blocks per row ({@code cols} for unquantized types). */
    public int blocksPerRow() {
        return cols / type.blockSize();
    }

    /**
     * Byte offset of row {@code row} inside {@link #data()}: where its values lie contiguously in the row-major
     * layout.
     *
     * @throws IllegalStateException for an interleaved matrix, whose rows are not contiguous
     */
    public long rowOffset(int row) {
        if (rowGroup != 1) {
            throw new IllegalStateException(name + " is interleaved: address its blocks with blockOffset");
        }
        return row * rowBytes();
    }

    /** Byte offset of block {@code block} of row {@code row}. */
    public long blockOffset(int row, int block) {
        int first = row - row % rowGroup;
        int inGroup = Math.min(rowGroup, rows - first);
        return first * rowBytes() + (long) block * inGroup * type.blockBytes() + (long) (row - first) * type.blockBytes();
    }

    /** Bytes from one block of row {@code row} to its next block. */
    public long blockStride(int row) {
        int first = row - row % rowGroup;
        return (long) Math.min(rowGroup, rows - first) * type.blockBytes();
    }

    /**
     * Rows {@code [from, from + count)} as a matrix of their own (a view, no copy). An interleaved matrix is sliced
     * at whole groups: {@code from} is a multiple of {@link #GROUP} and so is {@code count}, unless the slice ends at
     * the last row.
     */
    public Matrix rowSlice(String sliceName, int from, int count) {
        Objects.checkFromIndexSize(from, count, rows);
        if (rowGroup != 1 && (from % rowGroup != 0 || (count % rowGroup != 0 && from + count != rows))) {
            throw new IllegalArgumentException(name + " is interleaved in groups of " + rowGroup
                    + " rows; rows [" + from + ", " + (from + count) + ") split a group");
        }
        long firstBlock = (long) from * blocksPerRow();
        long blocks = (long) count * blocksPerRow();
        return new Matrix(sliceName, data.asSlice(from * rowBytes(), count * rowBytes()), type, count, cols, rowGroup,
                scales == null ? null : scales.asSlice(firstBlock * Float.BYTES, blocks * Float.BYTES),
                rounded == null ? null : rounded.rowSlice(from, count));
    }

    /**
     * This matrix with its rows interleaved in groups of {@link #GROUP} (see the class comment), copied into native
     * memory that is freed when the returned matrix is no longer reachable. The blocks are copied unchanged, so every
     * kernel computes the same values from either layout. Q8_0 and Q4_0 also get their {@link #scales()} (4 bytes
     * more per block of 32 weights).
     *
     * @throws IllegalArgumentException for types other than Q8_0, Q4_0, Q4_K and Q6_K
     */
    public Matrix interleaved() {
        if (rowGroup == GROUP) {
            return this;
        }
        if (rounded != null) {
            throw new IllegalStateException(name + ": interleave before making the rounded-activation form");
        }
        if (!interleavable(type)) {
            throw new IllegalArgumentException(
                    name + ": only Q8_0, Q4_0, Q4_K and Q6_K are stored interleaved, not " + type);
        }
        MemorySegment copy = WeightMemory.allocate(data.byteSize());
        boolean widenScales = hasWidenedScales(type);
        MemorySegment scaleCopy = widenScales
                ? WeightMemory.allocate(data.byteSize() / type.blockBytes() * Float.BYTES) : null;
        Matrix out = new Matrix(name, copy, type, rows, cols, GROUP, scaleCopy);
        // a group at a time through heap buffers: one bulk read and write per group, small copies in between;
        // ranges of groups in parallel (a model's worth of copying is seconds per GB on one core)
        int blockBytes = type.blockBytes();
        int blocks = blocksPerRow();
        int rowBytes = Math.toIntExact(rowBytes());
        int groups = (rows + GROUP - 1) / GROUP;
        int ranges = Math.min(groups, 64);
        IntStream.range(0, ranges).parallel().forEach(range -> {
            byte[] from = new byte[GROUP * rowBytes];
            byte[] to = new byte[GROUP * rowBytes];
            for (int g = (int) ((long) groups * range / ranges); g < (long) groups * (range + 1) / ranges; g++) {
                int first = g * GROUP;
                int inGroup = Math.min(GROUP, rows - first);
                long at = (long) first * rowBytes;
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at, from, 0, inGroup * rowBytes);
                for (int b = 0; b < blocks; b++) {
                    for (int k = 0; k < inGroup; k++) {
                        System.arraycopy(from, k * rowBytes + b * blockBytes, to, (b * inGroup + k) * blockBytes,
                                blockBytes);
                    }
                }
                MemorySegment.copy(to, 0, copy, ValueLayout.JAVA_BYTE, at, inGroup * rowBytes);
                if (widenScales) {
                    // Q8_0 and Q4_0 blocks open with their f16 scale
                    float[] widened = new float[inGroup * blocks];
                    for (int b = 0; b < widened.length; b++) {
                        widened[b] = Float.float16ToFloat(
                                (short) ((to[b * blockBytes] & 0xFF) | (to[b * blockBytes + 1] << 8)));
                    }
                    MemorySegment.copy(widened, 0, scaleCopy, SCALE, at / blockBytes * Float.BYTES,
                            widened.length);
                }
            }
        });
        // the copy replaces the mapped bytes for the kernels: without this, a model that fits in RAM once would be
        // resident twice (the anonymous copy and the file's pages mapped into the process)
        WeightMemory.releaseMappedPages(data);
        return out;
    }
}
