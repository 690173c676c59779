package dev.moe4j.kernels;

import java.lang.foreign.MemorySegment;

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
}
