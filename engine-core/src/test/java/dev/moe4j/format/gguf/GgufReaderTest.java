package dev.moe4j.format.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.BadModelFileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader on hand-built files: every value type, alignment, and each kind of defect with its message. */
class GgufReaderTest {
    @TempDir
    Path dir;

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private void assertRejected(byte[] bytes, String... messageParts) throws IOException {
        Path p = write("bad.gguf", bytes);
        BadModelFileException e = assertThrows(BadModelFileException.class, () -> GgufFile.open(p).close());
        for (String part : messageParts) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should contain '" + part + "'");
        }
        assertTrue(e.getMessage().contains(p.toString()), "message should name the file: " + e.getMessage());
    }

    /** A valid file: one F32 tensor [2][3] = 0..5 and one of every metadata type. */
    private static RawGguf valid() {
        byte[] data = new byte[24];
        for (int i = 0; i < 6; i++) {
            System.arraycopy(RawGguf.le(4, Float.floatToIntBits(i)), 0, data, 4 * i, 4);
        }
        RawGguf g = new RawGguf()
                .kv("u8", GgufMetadata.UINT8, RawGguf.le(1, 200))
                .kv("i8", GgufMetadata.INT8, RawGguf.le(1, -5))
                .kv("u16", GgufMetadata.UINT16, RawGguf.le(2, 60000))
                .kv("i16", GgufMetadata.INT16, RawGguf.le(2, -300))
                .kvU32("u32", 0xFFFFFFF0)
                .kv("i32", GgufMetadata.INT32, RawGguf.le(4, -70000))
                .kv("f32", GgufMetadata.FLOAT32, RawGguf.le(4, Float.floatToIntBits(1.5f)))
                .kv("bool", GgufMetadata.BOOL, RawGguf.le(1, 1))
                .kvString("str", "héllo")
                .kv("u64", GgufMetadata.UINT64, RawGguf.le(8, 1L << 40))
                .kv("i64", GgufMetadata.INT64, RawGguf.le(8, -(1L << 40)))
                .kv("f64", GgufMetadata.FLOAT64, RawGguf.le(8, Double.doubleToLongBits(2.25)))
                .kv("ints", GgufMetadata.ARRAY, RawGguf.concat(RawGguf.le(4, GgufMetadata.INT32), RawGguf.le(8, 3),
                        RawGguf.le(4, 7), RawGguf.le(4, 8), RawGguf.le(4, 9)))
                .kv("strs", GgufMetadata.ARRAY, RawGguf.concat(RawGguf.le(4, GgufMetadata.STRING), RawGguf.le(8, 2),
                        RawGguf.string("a"), RawGguf.string("bc")))
                .kv("nested", GgufMetadata.ARRAY, RawGguf.concat(RawGguf.le(4, GgufMetadata.ARRAY), RawGguf.le(8, 2),
                        RawGguf.le(4, GgufMetadata.UINT8), RawGguf.le(8, 1), RawGguf.le(1, 4),
                        RawGguf.le(4, GgufMetadata.FLOAT32), RawGguf.le(8, 1), RawGguf.le(4, Float.floatToIntBits(0.5f))))
                .tensor("w", new long[] {3, 2}, 0, 0);
        g.data = data;
        return g;
    }

    @Test
    void readsEveryValueTypeAndTensorData() throws IOException {
        try (GgufFile f = GgufFile.open(write("ok.gguf", valid().build()))) {
            GgufMetadata md = f.metadata();
            assertEquals(200, md.get("u8"));
            assertEquals(-5, md.get("i8"));
            assertEquals(60000, md.get("u16"));
            assertEquals(-300, md.get("i16"));
            assertEquals(0xFFFFFFF0L, md.get("u32"));
            assertEquals(-70000, md.get("i32"));
            assertEquals(1.5f, md.get("f32"));
            assertEquals(true, md.get("bool"));
            assertEquals("héllo", md.getString("str"));
            assertEquals(1L << 40, md.get("u64"));
            assertEquals(-(1L << 40), md.get("i64"));
            assertEquals(2.25, md.get("f64"));
            assertArrayEquals(new int[] {7, 8, 9}, md.getIntArray("ints"));
            assertArrayEquals(new String[] {"a", "bc"}, md.getStringArray("strs"));
            List<?> nested = (List<?>) md.get("nested");
            assertArrayEquals(new int[] {4}, (int[]) nested.get(0));
            assertArrayEquals(new float[] {0.5f}, (float[]) nested.get(1));
            GgufTensor w = f.tensor("w");
            assertEquals(GgmlType.F32, w.type());
            assertEquals(6, w.elementCount());
            assertEquals(0, f.dataStart() % 32);
            assertEquals(5f, w.data().get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED
                    .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 20));
        }
    }

    @Test
    void honoursCustomAlignment() throws IOException {
        RawGguf g = valid().kvU32("general.alignment", 64);
        g.alignment = 64;
        try (GgufFile f = GgufFile.open(write("a64.gguf", g.build()))) {
            assertEquals(0, f.dataStart() % 64);
            assertEquals(6, f.tensor("w").elementCount());
        }
    }

    @Test
    void rejectsWrongMagic() throws IOException {
        RawGguf g = valid();
        g.magic = 0x46554746;
        assertRejected(g.build(), "not a GGUF file", "magic");
        assertRejected(new byte[] {1, 2}, "not a GGUF file");
    }

    @Test
    void rejectsUnsupportedVersion() throws IOException {
        RawGguf g = valid();
        g.version = 4;
        assertRejected(g.build(), "GGUF version 4 is not supported");
        g.version = 1;
        assertRejected(g.build(), "GGUF version 1 is not supported");
    }

    @Test
    void rejectsTruncatedHeader() throws IOException {
        byte[] full = valid().build();
        for (int cut : new int[] {6, 20, 40, 100, 300}) {
            byte[] part = java.util.Arrays.copyOf(full, cut);
            Path p = write("cut" + cut + ".gguf", part);
            BadModelFileException e = assertThrows(BadModelFileException.class, () -> GgufFile.open(p).close());
            assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("more than the"),
                    "cut at " + cut + ": " + e.getMessage());
        }
    }

    @Test
    void rejectsTruncatedTensorData() throws IOException {
        byte[] full = valid().build();
        assertRejected(java.util.Arrays.copyOf(full, full.length - 4), "tensor 'w' data", "outside the file");
    }

    @Test
    void rejectsTensorOffsetOutsideFile() throws IOException {
        RawGguf g = valid();
        g.tensorInfos.clear();
        g.tensor("w", new long[] {3, 2}, 0, 1L << 20);
        assertRejected(g.build(), "tensor 'w' data", "outside the file");
        g.tensorInfos.clear();
        g.tensor("w", new long[] {3, 2}, 0, 4); // inside, but not aligned
        assertRejected(g.build(), "tensor 'w' offset 4 is not a multiple of the alignment 32");
    }

    @Test
    void rejectsElementCountOverflow() throws IOException {
        RawGguf g = valid();
        g.tensorInfos.clear();
        g.tensor("w", new long[] {1L << 40, 1L << 40}, 0, 0);
        assertRejected(g.build(), "tensor 'w' element count overflows");
    }

    @Test
    void rejectsUnknownTensorType() throws IOException {
        RawGguf g = valid();
        g.tensorInfos.clear();
        g.tensor("w", new long[] {3, 2}, 99, 0);
        assertRejected(g.build(), "tensor 'w' has unknown tensor type id 99");
    }

    @Test
    void rejectsCountsLargerThanTheFile() throws IOException {
        RawGguf g = valid();
        g.kvCountOverride = 1L << 50;
        assertRejected(g.build(), "metadata entry count", "more than the");
        g = valid();
        g.kv("big", GgufMetadata.ARRAY, RawGguf.concat(RawGguf.le(4, GgufMetadata.INT32), RawGguf.le(8, 1L << 40)));
        assertRejected(g.build(), "metadata 'big' element count", "more than the");
    }

    @Test
    void rejectsMalformedMetadata() throws IOException {
        assertRejected(valid().kv("t", 13, new byte[0]).build(), "metadata 't' has unknown value type 13");
        assertRejected(valid().kv("b", GgufMetadata.BOOL, RawGguf.le(1, 7)).build(), "bool with byte value 7");
        assertRejected(valid().kv("s", GgufMetadata.STRING, RawGguf.concat(RawGguf.le(8, 2), new byte[] {(byte) 0xC3, 0x28}))
                .build(), "not valid UTF-8");
        assertRejected(valid().kvString("str", "again").build(), "metadata key 'str' appears twice");
        RawGguf g = valid().kvU32("general.alignment", 48);
        assertRejected(g.build(), "general.alignment 48 is not a power of two");
        g = valid();
        g.tensor("w", new long[] {3, 2}, 0, 0);
        assertRejected(g.build(), "tensor 'w' appears twice");
        g = valid();
        g.tensorInfos.clear();
        g.tensor("w", new long[] {1, 1, 1, 1, 6}, 0, 0);
        assertRejected(g.build(), "tensor 'w' has 5 dimensions");
        g = valid();
        g.tensorInfos.clear();
        g.tensor("q", new long[] {48}, GgmlType.Q8_0.id(), 0);
        assertRejected(g.build(), "48 columns, not a multiple of its block size 32");
    }
}
