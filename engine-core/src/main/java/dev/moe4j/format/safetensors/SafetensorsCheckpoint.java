package dev.moe4j.format.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.api.BadModelFileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors weights of a Hugging Face model directory: either one {@code model.safetensors}, or shards listed
 * by {@code model.safetensors.index.json} (its {@code weight_map} names, for every tensor, the shard holding it).
 * Every shard is opened and validated; a tensor the index lists must be in the shard it names. Close it to unmap
 * all files.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsTensor> tensors;

    private SafetensorsCheckpoint(Path dir, List<SafetensorsFile> files, Map<String, SafetensorsTensor> tensors) {
        this.dir = dir;
        this.files = List.copyOf(files);
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /** Whether {@code dir} holds safetensors weights in one of the two layouts. */
    public static boolean isCheckpoint(Path dir) {
        return Files.isRegularFile(dir.resolve(INDEX_FILE)) || Files.isRegularFile(dir.resolve(SINGLE_FILE));
    }

    /** Opens the weights of {@code dir}, preferring the index when both layouts are present (as Hugging Face does). */
    public static SafetensorsCheckpoint open(Path dir) {
        Path index = dir.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return openSharded(dir, index);
        }
        Path single = dir.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) {
            SafetensorsFile file = SafetensorsFile.open(single);
            return new SafetensorsCheckpoint(dir, List.of(file), new LinkedHashMap<>(file.tensors()));
        }
        throw new BadModelFileException(dir + ": no weights: neither " + SINGLE_FILE + " nor " + INDEX_FILE
                + " is present");
    }

    private static SafetensorsCheckpoint openSharded(Path dir, Path index) {
        Map<String, String> weightMap = readWeightMap(index);
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        try {
            for (String shard : weightMap.values()) {
                if (shards.containsKey(shard)) {
                    continue;
                }
                Path p = dir.resolve(shard);
                if (!Files.isRegularFile(p)) {
                    throw new BadModelFileException(index + " names shard '" + shard + "', which is missing from "
                            + dir);
                }
                shards.put(shard, SafetensorsFile.open(p));
            }
            Map<String, SafetensorsTensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                SafetensorsTensor t = shards.get(e.getValue()).tensor(e.getKey());
                if (t == null) {
                    throw new BadModelFileException(index + " lists tensor '" + e.getKey() + "' in shard '"
                            + e.getValue() + "', but that shard does not hold it");
                }
                tensors.put(e.getKey(), t);
            }
            return new SafetensorsCheckpoint(dir, new ArrayList<>(shards.values()), tensors);
        } catch (RuntimeException | Error e) {
            shards.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** The index's {@code weight_map}, checked: tensor name → shard file name inside the directory. */
    private static Map<String, String> readWeightMap(Path index) {
        try {
            return weightMap(Files.readAllBytes(index), index.toString());
        } catch (IOException e) {
            throw new BadModelFileException("cannot read " + index + ": " + e, e);
        }
    }

    /** {@link #readWeightMap} of the index's bytes ({@code index} names the file in messages). */
    static Map<String, String> weightMap(byte[] json, String index) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new BadModelFileException(index + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new BadModelFileException("cannot read " + index + ": " + e, e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new BadModelFileException(index + ": missing or empty 'weight_map' object");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            JsonNode shard = e.getValue();
            if (!shard.isTextual()) {
                throw new BadModelFileException(index + ": weight_map entry '" + e.getKey()
                        + "' should name a shard file, was " + shard);
            }
            String name = shard.asText();
            // shards live beside the index: refuse paths that would leave the directory, and any other spelling of a
            // file name ("shard/", which would open the same file twice under two names; a NUL, no path at all)
            Path p;
            try {
                p = Path.of(name);
            } catch (InvalidPathException ex) {
                p = null;
            }
            if (p == null || name.isEmpty() || p.isAbsolute() || p.getNameCount() != 1 || !p.toString().equals(name)
                    || name.equals("..") || name.equals(".")) {
                throw new BadModelFileException(index + ": weight_map entry '" + e.getKey() + "' names shard '"
                        + name + "', which is not a file name in the model directory");
            }
            out.put(e.getKey(), name);
        }
        return out;
    }

    public Path dir() {
        return dir;
    }

    /** The opened files: one, or every shard in index order. */
    public List<SafetensorsFile> files() {
        return files;
    }

    /** Every tensor of the checkpoint by name (for a sharded checkpoint, those the index lists). */
    public Map<String, SafetensorsTensor> tensors() {
        return tensors;
    }

    /** The tensor of that name, or null. */
    public SafetensorsTensor tensor(String name) {
        return tensors.get(name);
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
