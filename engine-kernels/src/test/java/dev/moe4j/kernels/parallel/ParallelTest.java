package dev.moe4j.kernels.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {

    @Test
    void coversTheRangeExactlyOnceInContiguousChunks() {
        for (int threads : new int[] {1, 2, 3, 8}) {
            Parallel parallel = new Parallel(threads);
            for (int n : new int[] {0, 1, 2, 3, 7, 100, 1001}) {
                for (int minChunk : new int[] {0, 1, 2, 10, 1000}) {
                    AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(n, 1));
                    AtomicInteger chunks = new AtomicInteger();
                    parallel.forRange(n, minChunk, (start, end) -> {
                        assertTrue(0 <= start && start < end && end <= n, start + ".." + end);
                        chunks.incrementAndGet();
                        for (int i = start; i < end; i++) {
                            seen.incrementAndGet(i);
                        }
                    });
                    for (int i = 0; i < n; i++) {
                        assertEquals(1, seen.get(i), "threads=" + threads + " n=" + n + " minChunk=" + minChunk);
                    }
                    assertTrue(chunks.get() <= threads, "more chunks than threads");
                    if (n > 0 && n < 2 * Math.max(1, minChunk)) {
                        assertEquals(1, chunks.get(), "a range below two chunks stays on the caller");
                    }
                }
            }
        }
    }

    @Test
    void propagatesAnExceptionFromAnyChunk() {
        Parallel parallel = new Parallel(4);
        IllegalStateException worker = assertThrows(IllegalStateException.class,
                () -> parallel.forRange(100, 1, (start, end) -> {
                    if (start > 0 && end == 100) {
                        throw new IllegalStateException("worker chunk");
                    }
                }));
        assertEquals("worker chunk", worker.getMessage());
        IllegalArgumentException caller = assertThrows(IllegalArgumentException.class,
                () -> parallel.forRange(100, 1, (start, end) -> {
                    if (start == 0) {
                        throw new IllegalArgumentException("caller chunk");
                    }
                }));
        assertEquals("caller chunk", caller.getMessage());
        AssertionError error = new AssertionError("an error");
        assertSame(error, assertThrows(AssertionError.class, () -> parallel.forRange(100, 1, (start, end) -> {
            throw error;
        })));
    }

    @Test
    void waitsForEveryChunkBeforeReturning() {
        Parallel parallel = new Parallel(3);
        AtomicInteger done = new AtomicInteger();
        parallel.forRange(3, 1, (start, end) -> {
            if (start > 0) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            done.incrementAndGet();
        });
        assertEquals(3, done.get());
    }

    @Test
    void claimedLoopsCoverTheRangeExactlyOnce() {
        for (int threads : new int[] {1, 2, 3, 8}) {
            Parallel parallel = new Parallel(threads);
            for (int n : new int[] {0, 1, 2, 3, 7, 100, 1001}) {
                for (int grain : new int[] {1, 2, 10, 1000}) {
                    AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(n, 1));
                    parallel.forRangeClaimed(n, grain, (start, end) -> {
                        assertTrue(0 <= start && start < end && end <= n, start + ".." + end);
                        // one thread runs the whole range as one piece
                        assertTrue(end - start <= grain || (threads == 1 && start == 0 && end == n),
                                "a piece larger than the grain: " + start + ".." + end);
                        for (int i = start; i < end; i++) {
                            seen.incrementAndGet(i);
                        }
                    });
                    for (int i = 0; i < n; i++) {
                        assertEquals(1, seen.get(i), "threads=" + threads + " n=" + n + " grain=" + grain);
                    }
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new Parallel(2).forRangeClaimed(10, 0, (s, e) -> { }));
        // near the top of the int range: pieces stay inside [0, n)
        int n = Integer.MAX_VALUE - 3;
        java.util.concurrent.atomic.AtomicLong covered = new java.util.concurrent.atomic.AtomicLong();
        new Parallel(3).forRangeClaimed(n, 1 << 29, (start, end) -> {
            assertTrue(0 <= start && start < end && end <= n, start + ".." + end);
            covered.addAndGet(end - start);
        });
        assertEquals(n, covered.get());
    }

    @Test
    void aSlowThreadClaimsFewerPieces() {
        Parallel parallel = new Parallel(2);
        Thread caller = Thread.currentThread();
        AtomicInteger onCaller = new AtomicInteger();
        AtomicInteger pieces = new AtomicInteger();
        parallel.forRangeClaimed(64, 1, (start, end) -> {
            pieces.incrementAndGet();
            if (Thread.currentThread() == caller) {
                onCaller.incrementAndGet();
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        assertEquals(64, pieces.get());
        // a static split would have given the caller 32 pieces, 1.6 s of sleep
        assertTrue(onCaller.get() < 16, "the sleeping caller ran " + onCaller.get() + " of 64 pieces");
    }

    @Test
    void claimedLoopsPropagateExceptionsAndNestOnWorkers() throws Exception {
        Parallel parallel = new Parallel(3);
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> parallel.forRangeClaimed(100, 3, (start, end) -> {
                    if (start <= 50 && 50 < end) {
                        throw new IllegalStateException("piece with 50");
                    }
                }));
        assertEquals("piece with 50", thrown.getMessage());
        AtomicInteger cells = new AtomicInteger();
        java.util.concurrent.CompletableFuture.runAsync(() -> parallel.forRangeClaimed(8, 1, (s, e) -> {
            for (int i = s; i < e; i++) {
                parallel.forRangeClaimed(100, 7, (s2, e2) -> cells.addAndGet(e2 - s2));
                parallel.forRange(100, 1, (s2, e2) -> cells.addAndGet(e2 - s2));
            }
        })).get(20, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(1600, cells.get());
        // the pool still works after a failed loop
        AtomicInteger after = new AtomicInteger();
        parallel.forRangeClaimed(10, 1, (s, e) -> after.addAndGet(e - s));
        assertEquals(10, after.get());
    }

    @Test
    void rejectsFewerThanOneThread() {
        assertThrows(IllegalArgumentException.class, () -> new Parallel(0));
    }

    @org.junit.jupiter.api.Test
    void nestedLoopsOnWorkersDoNotDeadlock() throws Exception {
        Parallel parallel = new Parallel(2);
        java.util.concurrent.atomic.AtomicInteger cells = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CompletableFuture<Void> done = java.util.concurrent.CompletableFuture.runAsync(() ->
                parallel.forRange(8, 1, (s, e) -> {
                    for (int i = s; i < e; i++) {
                        parallel.forRange(100, 1, (s2, e2) -> cells.addAndGet(e2 - s2));
                    }
                }));
        done.get(20, java.util.concurrent.TimeUnit.SECONDS);
        org.junit.jupiter.api.Assertions.assertEquals(800, cells.get());
    }
}
