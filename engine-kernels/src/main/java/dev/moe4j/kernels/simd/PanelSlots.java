package dev.moe4j.kernels.simd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Panels of widened Q4_0 and Q8_0 weights for {@link TileMatmul}, as slots of one segment held in a static final
 * field, which a thread claims for one product. C2 treats that segment as a constant and drops the checks it makes on
 * every store into a segment it only gets as a value (class, session, liveness: about 13 instructions per 512-bit
 * store, redone after each store). Widening Q4_0 rows into the panel went from 0.11-0.14 to 0.075 ns a weight (one
 * core, 768×2048); a 768×2048 product over 32 tokens (a 30B-A3B expert's) from 98-101 to 106-110 GFLOP/s on one
 * core; pp512 interleaved A/B, two threads: 30B-A3B shape Q4_0 376-389 → 391-414 tok/s, 0.6B Q4_0 218-231 → 226-239.
 * A thread that finds no free slot (more threads than slots), or a panel larger than a slot (a single tile of rows
 * over 21845 columns), widens through a row array into its own panel, which is slower.
 */
final class PanelSlots {

    /** Bytes per slot: one panel of {@link TileMatmul#PANEL_BYTES}. */
    static final long BYTES = TileMatmul.PANEL_BYTES;

    /** Slots: one per processor and two for callers outside the pool, at most 64 (one bit each of a long). */
    static final int COUNT = Math.min(64, Runtime.getRuntime().availableProcessors() + 2);

    /** All the slots, 64-byte aligned like the threads' own panels. */
    static final MemorySegment ALL = Arena.global().allocate(COUNT * BYTES, 64);

    private static final AtomicLong FREE = new AtomicLong(COUNT == 64 ? -1L : (1L << COUNT) - 1);

    private PanelSlots() {}

    /** A free slot, now the caller's until {@link #release}, or -1 if none is free. */
    static int claim() {
        while (true) {
            long free = FREE.get();
            if (free == 0) {
                return -1;
            }
            int slot = Long.numberOfTrailingZeros(free);
            if (FREE.compareAndSet(free, free & ~(1L << slot))) {
                return slot;
            }
        }
    }

    static void release(int slot) {
        FREE.getAndUpdate(free -> free | 1L << slot);
    }

    /** Byte offset of {@code slot} in {@link #ALL}. */
    static long offset(int slot) {
        return slot * BYTES;
    }
}
