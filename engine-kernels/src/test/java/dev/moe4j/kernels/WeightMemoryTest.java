package dev.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

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
