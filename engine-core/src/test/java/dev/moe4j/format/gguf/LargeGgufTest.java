package dev.moe4j.format.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Offsets past 2 GiB: a sparse file, so the test costs no disk. */
class LargeGgufTest {
    @TempDir
    Path dir;

    @Test
    void readsTensorDataBeyondTwoGigabytes() throws IOException {
        long offset = (1L << 31) + (1L << 20); // past Integer.MAX_VALUE, 32-byte aligned
        RawGguf g = new RawGguf().kvString("general.architecture", "test")
                .tensor("small", new long[] {4}, 0, 0)
                .tensor("far", new long[] {8}, 0, offset);
        byte[] header = g.build();
        long dataStart = header.length; // build() pads the header to the alignment
        Path p = dir.resolve("big.gguf");
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(header));
            ByteBuffer far = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 8; i++) {
                far.putFloat(i + 0.5f);
            }
            far.flip();
            ch.write(far, dataStart + offset);
        }
        try (GgufFile f = GgufFile.open(p)) {
            assertTrue(f.size() > (1L << 31));
            GgufTensor t = f.tensor("far");
            for (int i = 0; i < 8; i++) {
                assertEquals(i + 0.5f, t.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i));
            }
            assertEquals(0f, f.tensor("small").data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0));
        }
    }
}
