package dev.moe4j.kernels.simd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.kernels.DType;
import dev.moe4j.kernels.Matrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link PanelSlots}: each slot goes to one claimer at a time, and a product whose thread finds no free slot (its own
 * panel, rows widened through a row array) gives the same bits as one that has a slot.
 */
class PanelSlotsTest {

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_0", "Q8_0"})
    void productWithoutASlotMatchesOneWithASlot(DType type) {
        Random random = new Random(type.ordinal());
        int rows = 45;
        int cols = 320;
        int tokens = 11;
        Matrix w = randomBlocks(random, type, rows, cols).interleaved();
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat() * 2 - 1;
        }
        VectorKernels kernels = new VectorKernels(512);
        float[] inSlot = new float[tokens * rows];
        kernels.matmul(inSlot, w, x, tokens, 0, rows);

        int[] held = claimAll();
        float[] ownPanel = new float[tokens * rows];
        try {
            assertEquals(-1, PanelSlots.claim(), "every slot is held");
            kernels.matmul(ownPanel, w, x, tokens, 0, rows);
        } finally {
            for (int slot : held) {
                PanelSlots.release(slot);
            }
        }
        assertArrayEquals(inSlot, ownPanel);
        // not equal by being empty: the products reached every token
        for (int t = 0; t < tokens; t++) {
            assertTrue(inSlot[t * rows] != 0, "token " + t);
        }
    }

    @Test
    void slotsAreHandedOutOnceUntilReleased() {
        int[] held = claimAll();
        try {
            Set<Integer> distinct = new HashSet<>();
            for (int slot : held) {
                assertTrue(slot >= 0 && slot < PanelSlots.COUNT, "slot " + slot);
                assertTrue(distinct.add(slot), "slot " + slot + " handed out twice");
            }
            assertEquals(PanelSlots.COUNT, held.length);
            assertEquals(-1, PanelSlots.claim());
            PanelSlots.release(held[1]);
            assertEquals(held[1], PanelSlots.claim());
        } finally {
            for (int slot : held) {
                PanelSlots.release(slot);
            }
        }
    }

    /** Claims until none is free (other tests' products may hold some for a moment: waits for those). */
    private static int[] claimAll() {
        int[] held = new int[PanelSlots.COUNT];
        for (int i = 0; i < held.length; i++) {
            int slot;
            while ((slot = PanelSlots.claim()) < 0) {
                Thread.onSpinWait();
            }
            held[i] = slot;
        }
        return held;
    }

    /** Random quant bytes, every block's f16 scale a sane one (2^-10 to 2^-4, either sign). */
    private static Matrix randomBlocks(Random random, DType type, int rows, int cols) {
        long bytes = rows * type.bytesFor(cols);
        byte[] b = new byte[(int) bytes];
        random.nextBytes(b);
        MemorySegment data = Arena.ofAuto().allocate(bytes, 8);
        MemorySegment.copy(b, 0, data, ValueLayout.JAVA_BYTE, 0, b.length);
        for (long at = 0; at < bytes; at += type.blockBytes()) {
            float scale = (float) Math.scalb(random.nextBoolean() ? 1.0 : -1.0, -4 - random.nextInt(7));
            data.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, Float.floatToFloat16(scale));
        }
        return new Matrix("w", data, type, rows, cols);
    }
}
