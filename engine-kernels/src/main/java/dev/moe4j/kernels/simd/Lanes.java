package dev.moe4j.kernels.simd;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
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

    /** Shorts, one register wide (twice the lanes of {@link #floats()}). */
    abstract VectorSpecies<Short> registerShorts();

    /** Bytes with as many lanes as {@link #registerShorts()}: half a register, widened to one of shorts. */
    abstract VectorSpecies<Byte> registerShortBytes();

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
        VectorSpecies<Short> registerShorts() {
            return ShortVector.SPECIES_128;
        }

        @Override
        VectorSpecies<Byte> registerShortBytes() {
            return ByteVector.SPECIES_64;
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
        VectorSpecies<Short> registerShorts() {
            return ShortVector.SPECIES_256;
        }

        @Override
        VectorSpecies<Byte> registerShortBytes() {
            return ByteVector.SPECIES_128;
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
        /** The lanes with bit d of their index set, for d = 8, 4, 2, 1: see {@link #sum16}. */
        private static final VectorMask<Float> PICK_8 = pick(8);
        private static final VectorMask<Float> PICK_4 = pick(4);
        private static final VectorMask<Float> PICK_2 = pick(2);
        private static final VectorMask<Float> PICK_1 = pick(1);
        /**
         * Indices into two registers x, y (as {@code selectFrom(x, y)} takes them, y's lanes from 16): lane i reads
         * x[i + d] where bit d of i is clear and y[i − d] where it is set.
         */
        private static final FloatVector PAIR_8 = pair(8);
        private static final FloatVector PAIR_4 = pair(4);
        private static final FloatVector PAIR_2 = pair(2);
        private static final FloatVector PAIR_1 = pair(1);
        /** Lane i reads lane i xor 1. */
        private static final VectorShuffle<Float> SWAP_1 = VectorShuffle.fromOp(FloatVector.SPECIES_512, i -> i ^ 1);
        /** The even lanes, in order, into lanes 0-7. */
        private static final VectorShuffle<Float> EVENS = VectorShuffle.fromOp(FloatVector.SPECIES_512, i -> 2 * i % 16);

        private static VectorMask<Float> pick(int d) {
            boolean[] bits = new boolean[16];
            for (int i = 0; i < 16; i++) {
                bits[i] = (i & d) != 0;
            }
            return VectorMask.fromArray(FloatVector.SPECIES_512, bits, 0);
        }

        private static FloatVector pair(int d) {
            float[] index = new float[16];
            for (int i = 0; i < 16; i++) {
                index[i] = (i & d) == 0 ? i + d : 16 + i - d;
            }
            return FloatVector.fromArray(FloatVector.SPECIES_512, index, 0);
        }

        /**
         * {@link #sum16} for eight registers: three pairing steps leave lanes 2j and 2j + 1 holding register j's last
         * two partial sums; one swap-and-add finishes them, and the even lanes are gathered into lanes 0-7.
         * Writes out[at, at + 16): lanes 8-15 are scratch.
         */
        void sum8(float[] a, int from, float[] out, int at) {
            VectorSpecies<Float> fs = FloatVector.SPECIES_512;
            FloatVector a0 = FloatVector.fromArray(fs, a, from);
            FloatVector a1 = FloatVector.fromArray(fs, a, from + 16);
            FloatVector a2 = FloatVector.fromArray(fs, a, from + 32);
            FloatVector a3 = FloatVector.fromArray(fs, a, from + 48);
            FloatVector a4 = FloatVector.fromArray(fs, a, from + 64);
            FloatVector a5 = FloatVector.fromArray(fs, a, from + 80);
            FloatVector a6 = FloatVector.fromArray(fs, a, from + 96);
            FloatVector a7 = FloatVector.fromArray(fs, a, from + 112);
            FloatVector b0 = a0.blend(a4, PICK_8).add(PAIR_8.selectFrom(a0, a4));
            FloatVector b1 = a1.blend(a5, PICK_8).add(PAIR_8.selectFrom(a1, a5));
            FloatVector b2 = a2.blend(a6, PICK_8).add(PAIR_8.selectFrom(a2, a6));
            FloatVector b3 = a3.blend(a7, PICK_8).add(PAIR_8.selectFrom(a3, a7));
            // lanes 0-3 of c_j: register j, 4-7: j + 2, 8-11: j + 4, 12-15: j + 6
            FloatVector c0 = b0.blend(b2, PICK_4).add(PAIR_4.selectFrom(b0, b2));
            FloatVector c1 = b1.blend(b3, PICK_4).add(PAIR_4.selectFrom(b1, b3));
            // lanes 2j, 2j + 1: register j
            FloatVector d = c0.blend(c1, PICK_2).add(PAIR_2.selectFrom(c0, c1));
            d.add(d.rearrange(SWAP_1)).rearrange(EVENS).intoArray(out, at);
        }

        @Override
        VectorSpecies<Float> floats() {
            return FloatVector.SPECIES_512;
        }

        @Override
        VectorSpecies<Short> registerShorts() {
            return ShortVector.SPECIES_512;
        }

        @Override
        VectorSpecies<Byte> registerShortBytes() {
            return ByteVector.SPECIES_256;
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

        /**
         * Sixteen {@link #sum}s at once: out[at + j] becomes the sum of the register at a[from + 16·j], j in [0, 16),
         * in {@link #sum}'s order ({@code out} may be {@code a} if {@code at} ≤ {@code from}): one transposed
         * reduction, 15 steps that each halve the registers left, where one sum at a time takes four rotations each.
         * Step d (8, 4, 2, 1) pairs registers x, y: lane i of the result is x[i] + x[i+d] where bit d of i is clear
         * and y[i] + y[i−d] where it is set, the additions {@link #sum} makes at that step. After the four steps
         * lane j holds register j's sum. Vectors come from memory, not arguments: a vector passed to or returned
         * from a call C2 does not inline, or whose exact class it knows only from the profile, is boxed.
         */
        void sum16(float[] a, int from, float[] out, int at) {
            VectorSpecies<Float> fs = FloatVector.SPECIES_512;
            FloatVector a0 = FloatVector.fromArray(fs, a, from);
            FloatVector a1 = FloatVector.fromArray(fs, a, from + 16);
            FloatVector a2 = FloatVector.fromArray(fs, a, from + 32);
            FloatVector a3 = FloatVector.fromArray(fs, a, from + 48);
            FloatVector a4 = FloatVector.fromArray(fs, a, from + 64);
            FloatVector a5 = FloatVector.fromArray(fs, a, from + 80);
            FloatVector a6 = FloatVector.fromArray(fs, a, from + 96);
            FloatVector a7 = FloatVector.fromArray(fs, a, from + 112);
            FloatVector a8 = FloatVector.fromArray(fs, a, from + 128);
            FloatVector a9 = FloatVector.fromArray(fs, a, from + 144);
            FloatVector a10 = FloatVector.fromArray(fs, a, from + 160);
            FloatVector a11 = FloatVector.fromArray(fs, a, from + 176);
            FloatVector a12 = FloatVector.fromArray(fs, a, from + 192);
            FloatVector a13 = FloatVector.fromArray(fs, a, from + 208);
            FloatVector a14 = FloatVector.fromArray(fs, a, from + 224);
            FloatVector a15 = FloatVector.fromArray(fs, a, from + 240);
            // d = 8: register j with j + 8
            FloatVector b0 = a0.blend(a8, PICK_8).add(PAIR_8.selectFrom(a0, a8));
            FloatVector b1 = a1.blend(a9, PICK_8).add(PAIR_8.selectFrom(a1, a9));
            FloatVector b2 = a2.blend(a10, PICK_8).add(PAIR_8.selectFrom(a2, a10));
            FloatVector b3 = a3.blend(a11, PICK_8).add(PAIR_8.selectFrom(a3, a11));
            FloatVector b4 = a4.blend(a12, PICK_8).add(PAIR_8.selectFrom(a4, a12));
            FloatVector b5 = a5.blend(a13, PICK_8).add(PAIR_8.selectFrom(a5, a13));
            FloatVector b6 = a6.blend(a14, PICK_8).add(PAIR_8.selectFrom(a6, a14));
            FloatVector b7 = a7.blend(a15, PICK_8).add(PAIR_8.selectFrom(a7, a15));
            // d = 4: lanes 0-3 of c_j hold register j, 4-7 register j + 4, 8-11 j + 8, 12-15 j + 12
            FloatVector c0 = b0.blend(b4, PICK_4).add(PAIR_4.selectFrom(b0, b4));
            FloatVector c1 = b1.blend(b5, PICK_4).add(PAIR_4.selectFrom(b1, b5));
            FloatVector c2 = b2.blend(b6, PICK_4).add(PAIR_4.selectFrom(b2, b6));
            FloatVector c3 = b3.blend(b7, PICK_4).add(PAIR_4.selectFrom(b3, b7));
            FloatVector d0 = c0.blend(c2, PICK_2).add(PAIR_2.selectFrom(c0, c2));
            FloatVector d1 = c1.blend(c3, PICK_2).add(PAIR_2.selectFrom(c1, c3));
            d0.blend(d1, PICK_1).add(PAIR_1.selectFrom(d0, d1)).intoArray(out, at);
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
