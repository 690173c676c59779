package dev.moe4j.format.safetensors;

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

/** One-file and sharded checkpoints, and the ways an index and its shards can disagree. */
class SafetensorsCheckpointTest {
    @TempDir
    Path dir;

    private static final String INDEX = """
            {"metadata": {"total_size": 16},
             "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}
            """;

    private void shard(String file, String... names) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        for (String name : names) {
            w.add(name, "F32", new long[] {2}, new byte[8]);
        }
        w.write(dir.resolve(file));
    }

    private void assertOpenFails(String... parts) {
        BadModelFileException e = assertThrows(BadModelFileException.class, () -> SafetensorsCheckpoint.open(dir).close());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should contain '" + part + "'");
        }
    }

    @Test
    void singleFile() throws IOException {
        shard(SafetensorsCheckpoint.SINGLE_FILE, "a", "b");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertEquals(List.of("a", "b"), List.copyOf(c.tensors().keySet()));
            assertEquals(1, c.files().size());
        }
    }

    @Test
    void shardsThroughTheIndex() throws IOException {
        shard("model-00001-of-00002.safetensors", "a", "unlisted");
        shard("model-00002-of-00002.safetensors", "b");
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), INDEX);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertEquals(List.of("a", "b"), List.copyOf(c.tensors().keySet())); // the index decides
            assertEquals(2, c.files().size());
            assertEquals(dir.resolve("model-00002-of-00002.safetensors"), c.files().get(1).path());
        }
    }

    @Test
    void noWeights() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{}");
        assertOpenFails("no weights: neither model.safetensors nor model.safetensors.index.json is present");
    }

    @Test
    void missingShard() throws IOException {
        shard("model-00001-of-00002.safetensors", "a");
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), INDEX);
        assertOpenFails("names shard 'model-00002-of-00002.safetensors', which is missing");
    }

    @Test
    void tensorListedButAbsentFromItsShard() throws IOException {
        shard("model-00001-of-00002.safetensors", "a");
        shard("model-00002-of-00002.safetensors", "c");
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), INDEX);
        assertOpenFails("lists tensor 'b' in shard 'model-00002-of-00002.safetensors', but that shard does not hold it");
    }

    @Test
    void brokenShardIsNamed() throws IOException {
        shard("model-00001-of-00002.safetensors", "a");
        Files.write(dir.resolve("model-00002-of-00002.safetensors"), new byte[] {1, 2, 3});
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), INDEX);
        assertOpenFails("model-00002-of-00002.safetensors: not a safetensors file");
    }

    @Test
    void badIndex() throws IOException {
        Path index = dir.resolve(SafetensorsCheckpoint.INDEX_FILE);
        Files.writeString(index, "{\"weight_map\": ");
        assertOpenFails(SafetensorsCheckpoint.INDEX_FILE + " is not valid JSON");
        Files.writeString(index, "{\"metadata\": {}}");
        assertOpenFails("missing or empty 'weight_map' object");
        Files.writeString(index, "{\"weight_map\": {\"a\": 3}}");
        assertOpenFails("weight_map entry 'a' should name a shard file, was 3");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"../elsewhere.safetensors\"}}");
        assertOpenFails("names shard '../elsewhere.safetensors', which is not a file name in the model directory");
    }

    /** Found by fuzzing (SafetensorsFuzzTest): "shard/" passed as a file name and opened the shard a second time. */
    @Test
    void shardNamesAreSpelledAsFileNames() throws IOException {
        shard("model-00001-of-00001.safetensors", "a", "b");
        Path index = dir.resolve(SafetensorsCheckpoint.INDEX_FILE);
        Files.writeString(index, "{\"weight_map\": {\"a\": \"model-00001-of-00001.safetensors/\","
                + " \"b\": \"model-00001-of-00001.safetensors\"}}");
        assertOpenFails("names shard 'model-00001-of-00001.safetensors/', which is not a file name");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"model\\u0000.safetensors\"}}");
        assertOpenFails("which is not a file name in the model directory");
    }
}
