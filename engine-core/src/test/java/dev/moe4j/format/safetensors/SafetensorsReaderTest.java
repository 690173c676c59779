package dev.moe4j.format.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.BadModelFileException;
import dev.moe4j.kernels.DType;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader on hand-built files: a valid one read back, and each kind of defect rejected with a clear message. */
class SafetensorsReaderTest {
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    private void assertRejected(byte[] bytes, String... messageParts) throws IOException {
        Path p = write("bad.safetensors", bytes);
        BadModelFileException e = assertThrows(BadModelFileException.class, () -> SafetensorsFile.open(p).close());
        for (String part : messageParts) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should contain '" + part + "'");
        }
        assertTrue(e.getMessage().contains(p.toString()), "message should name the file: " + e.getMessage());
    }

    /** A header over 24 bytes of data with one tensor entry {@code entry} for "t" (plus a valid "u"). */
    private void assertEntryRejected(String entry, String... messageParts) throws IOException {
        String header = "{\"u\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},\"t\":" + entry + "}";
        assertRejected(SafetensorsWriter.file(header, new byte[24]), messageParts);
    }

    @Test
    void readsTensorsAndMetadata() throws Exception {
        Path p = dir.resolve("ok.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt")
                .add("w", "F32", new long[] {2, 3}, floats(0, 1, 2, 3, 4, 5))
                .add("h", "BF16", new long[] {3}, new byte[] {0, 0x3f, (byte) 0x80, 0x3f, 0, (byte) 0xc0})
                .add("steps", "I64", new long[] {1}, new byte[8])
                .add("empty", "F16", new long[] {0, 4}, new byte[0])
                .add("scalar", "F32", new long[] {}, floats(7))
                .write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(5, f.tensors().size());
            SafetensorsTensor w = f.tensor("w");
            assertArrayEquals(new long[] {2, 3}, w.shape());
            assertEquals(SafetensorsType.F32, w.type());
            assertEquals(DType.F32, w.type().dtype());
            assertEquals(24, w.data().byteSize());
            for (int i = 0; i < 6; i++) {
                assertEquals(i, w.data().get(LE_FLOAT, 4L * i));
            }
            assertEquals(DType.BF16, f.tensor("h").type().dtype());
            assertEquals(0x3f80, Short.toUnsignedInt(f.tensor("h").data().get(
                    ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2)));
            assertNull(f.tensor("steps").type().dtype()); // read, but not usable as a weight
            assertEquals(0, f.tensor("empty").data().byteSize());
            assertEquals(7f, f.tensor("scalar").data().get(LE_FLOAT, 0));
            assertNull(f.tensor("nope"));
        }
    }

    @Test
    void tooShortForTheHeaderLength() throws IOException {
        assertRejected(new byte[5], "5 bytes, too short for the 8-byte header length");
    }

    @Test
    void headerLengthPastTheFile() throws IOException {
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        assertRejected(SafetensorsWriter.raw(4096, header, new byte[0]), "header length 4096 runs past the end of the file");
        assertRejected(SafetensorsWriter.raw(1L << 40, header, new byte[0]), "header length 1099511627776 exceeds the limit");
        assertRejected(SafetensorsWriter.raw(-1, header, new byte[0]), "header length 18446744073709551615 exceeds");
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        assertRejected(SafetensorsWriter.file("{\"t\": {\"dtype\": ", new byte[0]), "header is not valid JSON");
        assertRejected(SafetensorsWriter.file("GGUF\0\0\0\0", new byte[0]), "header is not valid JSON");
        assertRejected(SafetensorsWriter.file("{} {}", new byte[0]), "header is not valid JSON");
        assertRejected(SafetensorsWriter.file("[1, 2]", new byte[0]), "header should be a JSON object, was array");
    }

    @Test
    void duplicateTensorNames() throws IOException {
        String entry = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        assertRejected(SafetensorsWriter.file("{\"t\":" + entry + ",\"t\":" + entry + "}", new byte[4]),
                "header is not valid JSON", "Duplicate field 't'");
    }

    @Test
    void unknownDtype() throws IOException {
        assertEntryRejected("{\"dtype\":\"F9\",\"shape\":[2],\"data_offsets\":[0,8]}", "tensor 't'",
                "unknown dtype 'F9'");
    }

    @Test
    void shapeAndLengthDisagree() throws IOException {
        assertEntryRejected("{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}", "tensor 't'",
                "shape [3] of F32 needs 12 bytes but data_offsets [0, 8] span 8");
        assertEntryRejected("{\"dtype\":\"BF16\",\"shape\":[2, 2],\"data_offsets\":[0,16]}",
                "shape [2, 2] of BF16 needs 8 bytes but data_offsets [0, 16] span 16");
    }

    @Test
    void offsetsOutsideTheData() throws IOException {
        assertEntryRejected("{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]}", "tensor 't'",
                "data_offsets [16, 32] lie outside the data section (24 bytes after the header)");
        assertEntryRejected("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}", "end before they begin");
        assertEntryRejected("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}",
                "'data_offsets' should hold non-negative integers");
    }

    @Test
    void overlappingRanges() throws IOException {
        assertEntryRejected("{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[12,24]}",
                "tensors 't' [12, 24) and 'u' [16, 24) overlap");
    }

    @Test
    void malformedEntries() throws IOException {
        assertEntryRejected("[1]", "tensor 't': header entry should be an object");
        assertEntryRejected("{\"shape\":[2],\"data_offsets\":[0,8]}", "tensor 't': missing string 'dtype'");
        assertEntryRejected("{\"dtype\":\"F32\",\"data_offsets\":[0,8]}", "'shape' should be an array of integers");
        assertEntryRejected("{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}",
                "'shape' should hold non-negative integers");
        assertEntryRejected("{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}",
                "'shape' should hold non-negative integers");
        assertEntryRejected("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}",
                "'data_offsets' should be an array of 2 integers");
        assertEntryRejected("{\"dtype\":\"F32\",\"shape\":[4294967296, 4294967296],\"data_offsets\":[0,8]}",
                "overflows");
        assertRejected(SafetensorsWriter.file("{\"__metadata__\":{\"format\":1}}", new byte[0]),
                "__metadata__ value 'format' should be a string");
    }
}
