package dev.moe4j.format.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small safetensors writer for tests: tensors laid out back to back in the order added, the JSON header padded
 * with spaces to a multiple of 8 bytes (as the reference writer does). Also builds raw, deliberately broken files.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Tensor(String name, String dtype, long[] shape, byte[] data) {}

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public SafetensorsWriter add(String name, String dtype, long[] shape, byte[] data) {
        tensors.add(new Tensor(name, dtype, shape.clone(), data.clone()));
        return this;
    }

    public SafetensorsWriter add(String name, String dtype, long[] shape, MemorySegment data) {
        return add(name, dtype, shape, data.toArray(ValueLayout.JAVA_BYTE));
    }

    public SafetensorsWriter add(SafetensorsTensor t) {
        return add(t.name(), t.type().name(), t.shape(), t.data());
    }

    /** The header JSON this writer would produce (tensor offsets assigned in order). */
    public ObjectNode header() {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode md = header.putObject(SafetensorsFile.METADATA);
            metadata.forEach(md::put);
        }
        long offset = 0;
        for (Tensor t : tensors) {
            ObjectNode info = header.putObject(t.name);
            info.put("dtype", t.dtype);
            ArrayNode shape = info.putArray("shape");
            for (long d : t.shape) {
                shape.add(d);
            }
            info.putArray("data_offsets").add(offset).add(offset + t.data.length);
            offset += t.data.length;
        }
        return header;
    }

    public byte[] data() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Tensor t : tensors) {
            out.writeBytes(t.data);
        }
        return out.toByteArray();
    }

    public void write(Path file) throws IOException {
        Files.write(file, file(header().toString(), data()));
    }

    /** A file with {@code header} padded to 8 bytes and its true length. */
    public static byte[] file(String header, byte[] data) {
        StringBuilder padded = new StringBuilder(header);
        while ((padded.toString().getBytes(StandardCharsets.UTF_8).length) % 8 != 0) {
            padded.append(' ');
        }
        byte[] h = padded.toString().getBytes(StandardCharsets.UTF_8);
        return raw(h.length, h, data);
    }

    /** A file declaring {@code headerLength} whatever the header bytes that follow really are. */
    public static byte[] raw(long headerLength, byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(header).put(data);
        return b.array();
    }

    /**
     * Writes {@code tensors} into {@code dir} as {@code shards} files named like Hugging Face's
     * ({@code model-00001-of-00003.safetensors}), split into runs of about equal size, plus the index.
     */
    public static void writeSharded(Path dir, Collection<SafetensorsTensor> tensors, int shards) throws IOException {
        long total = tensors.stream().mapToLong(t -> t.data().byteSize()).sum();
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode weightMap = index.putObject("weight_map");
        List<SafetensorsWriter> writers = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            writers.add(new SafetensorsWriter().metadata("format", "pt"));
        }
        long written = 0;
        for (SafetensorsTensor t : tensors) {
            int shard = (int) Math.min(shards - 1, written * shards / total);
            writers.get(shard).add(t);
            weightMap.put(t.name(), shardName(shard, shards));
            written += t.data().byteSize();
        }
        for (int i = 0; i < shards; i++) {
            writers.get(i).write(dir.resolve(shardName(i, shards)));
        }
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), index.toPrettyString());
    }

    public static String shardName(int shard, int shards) {
        return "model-%05d-of-%05d.safetensors".formatted(shard + 1, shards);
    }
}
