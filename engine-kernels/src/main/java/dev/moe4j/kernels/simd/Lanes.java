package dev.moe4j.kernels.simd;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API species of one register width. C2 compiles a vector operation to a single instruction only when
 * its species is a compile-time constant; a species kept in an instance field is not one (measured 3x slower).
 * Each width is therefore its own class returning {@code static final} species: a kernel calls
 * {@code lanes.floats()} once, and since a JVM runs one width, the call site sees one receiver class, is inlined,
 * and the species folds to a constant.
 */
abstract sealed class Lanes permits Lanes.Bits128, Lanes.Bits256, Lanes.Bits512 {

    /** Floats, one register wide. */
    abstract VectorSpecies<Float> floats();

    /** Ints with as many lanes as {@link #floats()}: the integer view of a float register. */
    abstract VectorSpecies<Integer> ints();

    /** Shorts with as many lanes as {@link #floats()}: one register of F16/BF16 weights. */
    abstract VectorSpecies<Short> shorts();

    /**
     * Bytes of quantized weights loaded at once: as many as {@link #floats()} has lanes, but at least 8 (there is
     * no 32-bit byte species), so a load widens into {@code bytes().length() / floats().length()} float vectors.
     */
    abstract VectorSpecies<Byte> bytes();

    /**
     * The sum of the n = {@code floats().length()} floats at {@code a[offset]} in one fixed order: as lanes, i + n/2
     * is added to i, then i + n/4 to i, and so on down to lane 0. {@code reduceLanes(ADD)} leaves its order to the
     * implementation, and C2's intrinsic and the Java fallback (interpreter, C1) differ, so a sum would change once
     * C2 compiles a kernel; rotations and lane-wise adds are exact in both. Accumulators come through memory, so
     * that no vector is the argument of a call C2 may decline to inline (its node budget runs out in big kernels).
     */
    abstract float sum(float[] a, int offset);

    /** The lanes of {@code bits}-wide registers, or of the machine's preferred width for 0. */
    static Lanes of(int bits) {
        int width = bits == 0 ? FloatVector.SPECIES_PREFERRED.vectorBitSize() : bits;
        return switch (width) {
            case 128 -> new Bits128();
            case 256 -> new Bits256();
            case 512 -> new Bits512();
            default -> throw new IllegalArgumentException(bits == 0
                    ? "the machine's preferred vector width, " + width + " bits, is not 128, 256 or 512"
                    : "unsupported vector width " + bits + " bits: use 0 (preferred), 128, 256 or 512");
        };
    }

    static final class Bits128 extends Lanes {
        private static final VectorShuffle<Float> ROTATE_2 = VectorShuffle.iota(FloatVector.SPECIES_128, 2, 1, true);
        private static final VectorShuffle<Float> ROTATE_1 = VectorShuffle.iota(FloatVector.SPECIES_128, 1, 1, true);

        @Override
        VectorSpecies<Float> floats() {
            return FloatVector.SPECIES_128;
        }

        @Override
        VectorSpecies<Integer> ints() {
            return IntVector.SPECIES_128;
        }

        @Override
        VectorSpecies<Short> shorts() {
            return ShortVector.SPECIES_64;
        }

        @Override
        VectorSpecies<Byte> bytes() {
            return ByteVector.SPECIES_64;
        }

        @Override
        float sum(float[] a, int offset) {
            FloatVector v = FloatVector.fromArray(FloatVector.SPECIES_128, a, offset);
            v = v.add(v.rearrange(ROTATE_2));
            v = v.add(v.rearrange(ROTATE_1));
            return v.lane(0);
        }
    }

    static final class Bits256 extends Lanes {
        private static final VectorShuffle<Float> ROTATE_4 = VectorShuffle.iota(FloatVector.SPECIES_256, 4, 1, true);
        private static final VectorShuffle<Float> ROTATE_2 = VectorShuffle.iota(FloatVector.SPECIES_256, 2, 1, true);
        private static final VectorShuffle<Float> ROTATE_1 = VectorShuffle.iota(FloatVector.SPECIES_256, 1, 1, true);

        @Override
        VectorSpecies<Float> floats() {
            return FloatVector.SPECIES_256;
        }

        @Override
        VectorSpecies<Integer> ints() {
            return IntVector.SPECIES_256;
        }

        @Override
        VectorSpecies<Short> shorts() {
            return ShortVector.SPECIES_128;
        }

        @Override
        VectorSpecies<Byte> bytes() {
            return ByteVector.SPECIES_64;
        }

        @Override
        float sum(float[] a, int offset) {
            FloatVector v = FloatVector.fromArray(FloatVector.SPECIES_256, a, offset);
            v = v.add(v.rearrange(ROTATE_4));
            v = v.add(v.rearrange(ROTATE_2));
            v = v.add(v.rearrange(ROTATE_1));
            return v.lane(0);
        }
    }

    /**
     * 16 lanes. Kernels specialised for this width repeat {@link #sum}'s steps inline with these shuffles: in a hot
     * mat-vec, a call to {@code sum} (virtual, through memory) or even to a small static helper taking the vector
     * (not inlined into a method that large, so the vector is boxed) measured 25 % slower for the whole kernel.
     */
    static final class Bits512 extends Lanes {
        static final VectorShuffle<Float> ROTATE_8 = VectorShuffle.iota(FloatVector.SPECIES_512, 8, 1, true);
        static final VectorShuffle<Float> ROTATE_4 = VectorShuffle.iota(FloatVector.SPECIES_512, 4, 1, true);
        static final VectorShuffle<Float> ROTATE_2 = VectorShuffle.iota(FloatVector.SPECIES_512, 2, 1, true);
        static final VectorShuffle<Float> ROTATE_1 = VectorShuffle.iota(FloatVector.SPECIES_512, 1, 1, true);

        @Override
        VectorSpecies<Float> floats() {
            return FloatVector.SPECIES_512;
        }

        @Override
        VectorSpecies<Integer> ints() {
            return IntVector.SPECIES_512;
        }

        @Override
        VectorSpecies<Short> shorts() {
            return ShortVector.SPECIES_256;
        }

        @Override
        VectorSpecies<Byte> bytes() {
            return ByteVector.SPECIES_128;
        }

        @Override
        float sum(float[] a, int offset) {
            FloatVector v = FloatVector.fromArray(FloatVector.SPECIES_512, a, offset);
            v = v.add(v.rearrange(ROTATE_8));
            v = v.add(v.rearrange(ROTATE_4));
            v = v.add(v.rearrange(ROTATE_2));
            v = v.add(v.rearrange(ROTATE_1));
            return v.lane(0);
        }
    }
}
