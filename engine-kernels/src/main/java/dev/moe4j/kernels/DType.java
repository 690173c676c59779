package dev.moe4j.kernels;

/**
 * Storage types of weight tensors, with their GGML block geometry. A row of {@code n} elements of a block
 * type occupies {@code n / blockSize * blockBytes} bytes; {@code n} must be a multiple of the block size.
 */
public enum DType {
    F32(1, 4),
    F16(1, 2),
    BF16(1, 2),
    /** 32 weights: f16 scale d, 32 × int8; w = d·q. */
    Q8_0(32, 34),
    /** 32 weights: f16 scale d, 16 bytes of nibbles; w = d·(q − 8). */
    Q4_0(32, 18),
    /** 256 weights in 8 sub-blocks of 32 with 6-bit scales and mins. */
    Q4_K(256, 144),
    /** 256 weights in 16 sub-blocks of 16 with 8-bit scales; 6-bit quants. */
    Q6_K(256, 210),
    /** 32 weights: f16 scale d and offset m, 16 bytes of nibbles; w = d·q + m. */
    Q4_1(32, 20),
    /** 32 weights: f16 scale d, 32 fifth bits, 16 bytes of nibbles; w = d·(q − 16). */
    Q5_0(32, 22),
    /** 32 weights: f16 scale d and offset m, 32 fifth bits, 16 bytes of nibbles; w = d·q + m. */
    Q5_1(32, 24),
    /** 256 weights in 16 sub-blocks of 16 with 4-bit scales and mins; 2-bit quants. */
    Q2_K(256, 84),
    /** 256 weights in 16 sub-blocks of 16 with 6-bit signed scales; 3-bit quants. */
    Q3_K(256, 110),
    /** 256 weights in 8 sub-blocks of 32 with 6-bit scales and mins; 5-bit quants. */
    Q5_K(256, 176),
    /** 32 weights: f16 scale d, 16 bytes of nibbles indexing a fixed table of 16 non-uniform levels. */
    IQ4_NL(32, 18),
    /** 256 weights in 8 sub-blocks of 32 with 6-bit signed scales; nibbles index the IQ4_NL levels. */
    IQ4_XS(256, 136);

    private final int blockSize;
    private final int blockBytes;

    DType(int blockSize, int blockBytes) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    public int blockSize() {
        return blockSize;
    }

    public int blockBytes() {
        return blockBytes;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** Bytes taken by {@code elements} values; the count must be a whole number of blocks. */
    public long bytesFor(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(
                    this + " stores blocks of " + blockSize + " values; " + elements + " is not a multiple");
        }
        return Math.multiplyExact(elements / blockSize, (long) blockBytes);
    }
}
