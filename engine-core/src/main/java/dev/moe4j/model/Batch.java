package dev.moe4j.model;

import dev.moe4j.cache.Sequence;
import java.util.Arrays;
import java.util.Objects;

/**
 * One step of work for {@link Model#forward}: a flat list of tokens, each with its position and sequence, and
 * whether its logits are wanted. A whole prompt, one decode token from each of several sequences, or a mix all
 * take this one shape. Each sequence's tokens must continue it: positions {@code length, length+1, …} in order.
 */
public final class Batch {
    private final int[] tokens;
    private final int[] positions;
    private final Sequence[] sequences;
    private final boolean[] wantLogits;

    private Batch(Builder b) {
        tokens = Arrays.copyOf(b.tokens, b.size);
        positions = Arrays.copyOf(b.positions, b.size);
        sequences = Arrays.copyOf(b.sequences, b.size);
        wantLogits = Arrays.copyOf(b.wantLogits, b.size);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code tokens} appended to {@code seq} from its current length; logits for all of them or the last only. */
    public static Batch of(Sequence seq, int[] tokens, boolean allLogits) {
        Builder b = builder();
        for (int i = 0; i < tokens.length; i++) {
            b.add(tokens[i], seq.length() + i, seq, allLogits || i == tokens.length - 1);
        }
        return b.build();
    }

    public int size() {
        return tokens.length;
    }

    public int token(int i) {
        return tokens[i];
    }

    public int position(int i) {
        return positions[i];
    }

    public Sequence sequence(int i) {
        return sequences[i];
    }

    public boolean wantsLogits(int i) {
        return wantLogits[i];
    }

    /** How many rows of logits {@link Model#forward} returns. */
    public int logitRows() {
        int n = 0;
        for (boolean w : wantLogits) {
            n += w ? 1 : 0;
        }
        return n;
    }

    public static final class Builder {
        private int[] tokens = new int[16];
        private int[] positions = new int[16];
        private Sequence[] sequences = new Sequence[16];
        private boolean[] wantLogits = new boolean[16];
        private int size;

        public Builder add(int token, int position, Sequence sequence, boolean logits) {
            Objects.requireNonNull(sequence, "sequence");
            if (position < 0) {
                throw new IllegalArgumentException("position must be >= 0, was " + position);
            }
            if (size == tokens.length) {
                int n = size * 2;
                tokens = Arrays.copyOf(tokens, n);
                positions = Arrays.copyOf(positions, n);
                sequences = Arrays.copyOf(sequences, n);
                wantLogits = Arrays.copyOf(wantLogits, n);
            }
            tokens[size] = token;
            positions[size] = position;
            sequences[size] = sequence;
            wantLogits[size] = logits;
            size++;
            return this;
        }

        public Batch build() {
            if (size == 0) {
                throw new IllegalArgumentException("a batch needs at least one token");
            }
            return new Batch(this);
        }
    }
}
