package dev.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link WeightMemory}: zeroed, writable, the exact size asked for, huge-page aligned when mapped. */
class WeightMemoryTest {

    @Test
    void mappedMemoryIsZeroedWritableAndAligned() {
        // the build runs tests with --enable-native-access on Linux, so the mapping path is the one taken here
        assertEquals("Linux".equals(System.getProperty("os.name")), WeightMemory.hugePages());
        for (long bytes : new long[] {5L << 20, (3L << 20) + 17, 2L << 20}) {
            MemorySegment m = WeightMemory.allocate(bytes);
            check(m, bytes);
            if (WeightMemory.hugePages()) {
                assertEquals(0, m.address() % (2L << 20), "huge-page aligned");
            }
        }
    }

    @Test
    void ordinaryMemoryIsZeroedWritableAndAligned() {
        for (long bytes : new long[] {1, 63, 4096, (3L << 20) + 17}) {
            MemorySegment m = WeightMemory.allocate(bytes, false);
            check(m, bytes);
            assertEquals(0, m.address() % 64);
        }
    }

    @Test
    void copiesBelowAHugePageAreMappedToo() {
        // a MoE's experts (1-2 MiB each, thousands of them) must not count against the JVM's direct-memory limit
        for (long bytes : new long[] {4096, (1L << 20) + 17, (2L << 20) - 1}) {
            MemorySegment m = WeightMemory.allocate(bytes);
            check(m, bytes);
            if (WeightMemory.hugePages()) {
                assertEquals(0, m.address() % 4096, "page aligned: an anonymous mapping");
            }
        }
    }

    @Test
    void smallRequestsAreNotMapped() {
        MemorySegment m = WeightMemory.allocate(1000);
        check(m, 1000);
    }

    @Test
    void aFileMappingReachesTheKernelsAsTheCopiesClassAndStaysFileBacked(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("weights.bin");
        byte[] bytes = new byte[3 * 4096 + 5];
        new SplittableRandom(3).nextBytes(bytes);
        Files.write(file, bytes);
        MemorySegment view;
        try (Arena arena = Arena.ofShared(); FileChannel channel = FileChannel.open(file)) {
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, bytes.length, arena);
            view = WeightMemory.kernelView(mapped);
            // one class for mapped and copied weights: C2 specialises a kernel's loads to the classes it has seen
            assertEquals(WeightMemory.allocate(4096).getClass(), view.getClass());
            assertEquals(WeightMemory.allocate(100, false).getClass(), view.getClass());
            assertEquals(mapped.address(), view.address());
            assertEquals(bytes.length, view.byteSize());
            assertTrue(view.isReadOnly());
            assertArrayEquals(bytes, view.toArray(ValueLayout.JAVA_BYTE));
            assertTrue(WeightMemory.fileBacked(view));
            assertTrue(WeightMemory.fileBacked(view.asSlice(4096, 4096)));
            assertFalse(WeightMemory.fileBacked(WeightMemory.allocate(4096)));
            // the released pages fault back in from the file
            WeightMemory.releaseMappedPages(view.asSlice(0, 2 * 4096));
            assertArrayEquals(bytes, view.toArray(ValueLayout.JAVA_BYTE));
        }
        // unmapped: its address range may be reused by anonymous memory, which must never be released
        assertFalse(WeightMemory.fileBacked(view));
    }

    private static void check(MemorySegment m, long bytes) {
        assertEquals(bytes, m.byteSize());
        for (long i = 0; i < bytes; i += 4093) {
            assertEquals(0, m.get(ValueLayout.JAVA_BYTE, i), "zeroed at " + i);
        }
        m.set(ValueLayout.JAVA_BYTE, 0, (byte) 9);
        m.set(ValueLayout.JAVA_BYTE, bytes - 1, (byte) 7);
        assertEquals(7, m.get(ValueLayout.JAVA_BYTE, bytes - 1));
        assertTrue(bytes == 1 || m.get(ValueLayout.JAVA_BYTE, 0) == 9);
    }
}
