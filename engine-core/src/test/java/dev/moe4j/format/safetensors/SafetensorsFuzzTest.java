package dev.moe4j.format.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.moe4j.api.BadModelFileException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Arbitrary bytes as a safetensors file (the 8-byte header length, the JSON header, the data section) and as the
 * {@code model.safetensors.index.json} of a sharded checkpoint. A defect is a {@link BadModelFileException}; a file
 * that opens has every tensor inside the data section and no two tensors overlapping; an index that opens maps every
 * tensor it lists to the shard holding it. Corpus: {@code SafetensorsFuzzTestInputs/}.
 */
class SafetensorsFuzzTest {
    private static final Path PATH = Path.of("fuzz.safetensors");
    /** A checkpoint directory with one real shard holding tensors "a" (F32 [2]) and "b" (BF16 [2, 2]). */
    private static final Path CHECKPOINT = checkpoint();

    @FuzzTest(maxDuration = "2m")
    void header(byte[] bytes) {
        SafetensorsFile file;
        try {
            file = SafetensorsFile.parse(PATH, Arena.ofConfined(), MemorySegment.ofArray(bytes));
        } catch (BadModelFileException e) {
            return;
        }
        try (file) {
            long dataStart = 8 + ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            List<SafetensorsTensor> tensors = new ArrayList<>(file.tensors().values());
            for (SafetensorsTensor t : tensors) {
                long elements = 1;
                for (long d : t.shape()) {
                    elements *= d;
                }
                assertEquals(elements * t.type().bits() / 8, t.data().byteSize(), t.name());
                assertTrue(t.data().byteSize() <= bytes.length - dataStart, t.name());
            }
            // non-empty tensors never share a byte
            tensors.removeIf(t -> t.data().byteSize() == 0);
            tensors.sort(Comparator.comparingLong(t -> t.data().address()));
            for (int i = 1; i < tensors.size(); i++) {
                MemorySegment previous = tensors.get(i - 1).data();
                assertTrue(previous.address() + previous.byteSize() <= tensors.get(i).data().address(),
                        tensors.get(i - 1).name() + " / " + tensors.get(i).name());
            }
        }
    }

    @FuzzTest(maxDuration = "2m")
    void shardIndex(byte[] bytes) throws IOException {
        // the weight map alone first, in memory: most inputs end here, and writing and mapping files is slow
        Map<String, String> weightMap;
        try {
            weightMap = SafetensorsCheckpoint.weightMap(bytes, SafetensorsCheckpoint.INDEX_FILE);
        } catch (BadModelFileException e) {
            return;
        }
        for (String shard : weightMap.values()) {
            assertEquals(1, Path.of(shard).getNameCount(), shard);
            assertFalse(Path.of(shard).isAbsolute() || shard.equals("..") || shard.equals("."), shard);
        }
        Files.write(CHECKPOINT.resolve(SafetensorsCheckpoint.INDEX_FILE), bytes);
        SafetensorsCheckpoint checkpoint;
        try {
            checkpoint = SafetensorsCheckpoint.open(CHECKPOINT);
        } catch (BadModelFileException e) {
            return;
        }
        try (checkpoint) {
            assertEquals(1, checkpoint.files().size());
            for (var e : checkpoint.tensors().entrySet()) {
                assertEquals(e.getKey(), e.getValue().name());
                assertTrue(e.getKey().equals("a") || e.getKey().equals("b"), e.getKey());
            }
        }
    }

    private static Path checkpoint() {
        try {
            Path dir = Files.createTempDirectory("moe4j-fuzz-shards");
            dir.toFile().deleteOnExit();
            byte[] header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[8,16]}}"
                    .getBytes(StandardCharsets.UTF_8);
            ByteBuffer file = ByteBuffer.allocate(8 + header.length + 16).order(ByteOrder.LITTLE_ENDIAN);
            file.putLong(header.length).put(header);
            Path shard = dir.resolve("model-00001-of-00001.safetensors");
            Files.write(shard, file.array());
            shard.toFile().deleteOnExit();
            dir.resolve(SafetensorsCheckpoint.INDEX_FILE).toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
