package dev.moe4j.format.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.api.BadModelFileException;
import dev.moe4j.format.MappedFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file mapped into memory: an 8-byte little-endian header length, a JSON header mapping each tensor
 * name to {@code dtype}, {@code shape} and {@code data_offsets} (relative to the data section that follows the
 * header), and the tensor bytes. The header is validated on open; tensor data stays in the mapping and is exposed
 * as {@link MemorySegment} views. Close it to unmap; views are invalid afterwards.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** Larger headers are refused; the reference implementation uses the same 100 MB limit. */
    public static final long MAX_HEADER_BYTES = 100_000_000;
    static final String METADATA = "__metadata__";

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path path;
    private final Arena arena;
    private final Map<String, String> metadata;
    private final Map<String, SafetensorsTensor> tensors;
    private final long size;

    private SafetensorsFile(Path path, Arena arena, Map<String, String> metadata,
                            Map<String, SafetensorsTensor> tensors, long size) {
        this.path = path;
        this.arena = arena;
        this.metadata = metadata;
        this.tensors = tensors;
        this.size = size;
    }

    /** Maps and parses {@code path}; any defect raises a {@link BadModelFileException} naming the file and it. */
    public static SafetensorsFile open(Path path) {
        return MappedFile.open(path, "safetensors file", SafetensorsFile::parse);
    }

    /** Parses a mapping (or any segment holding a whole file: the fuzz tests pass heap bytes). */
    static SafetensorsFile parse(Path path, Arena arena, MemorySegment mapped) {
        String file = path.toString();
        long size = mapped.byteSize();
        if (size < 8) {
            throw new BadModelFileException(file + ": not a safetensors file: " + size
                    + " bytes, too short for the 8-byte header length");
        }
        long headerBytes = mapped.get(LE_LONG, 0);
        if (headerBytes < 0 || headerBytes > MAX_HEADER_BYTES) {
            throw new BadModelFileException(file + ": header length " + Long.toUnsignedString(headerBytes)
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes: not a safetensors file, or corrupt");
        }
        if (headerBytes > size - 8) {
            throw new BadModelFileException(file + ": header length " + headerBytes + " runs past the end of the file ("
                    + size + " bytes): truncated or not a safetensors file");
        }
        JsonNode header = readHeader(file, mapped.asSlice(8, headerBytes).toArray(ValueLayout.JAVA_BYTE));
        long dataStart = 8 + headerBytes;
        long dataSize = size - dataStart;

        Map<String, String> metadata = Map.of();
        record Entry(String name, SafetensorsType type, long[] shape, long begin, long end) {}
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : header.properties()) {
            String name = field.getKey();
            JsonNode info = field.getValue();
            if (name.equals(METADATA)) {
                metadata = readMetadata(file, info);
                continue;
            }
            String what = file + ": tensor '" + name + "'";
            if (!info.isObject()) {
                throw new BadModelFileException(what + ": header entry should be an object, was " + info);
            }
            JsonNode dtype = info.get("dtype");
            if (dtype == null || !dtype.isTextual()) {
                throw new BadModelFileException(what + ": missing string 'dtype'");
            }
            SafetensorsType type = SafetensorsType.byName(dtype.asText());
            if (type == null) {
                throw new BadModelFileException(what + ": unknown dtype '" + dtype.asText() + "' (known: "
                        + Arrays.toString(SafetensorsType.values()) + ")");
            }
            long[] shape = longs(what, info.get("shape"), "shape", -1);
            long[] offsets = longs(what, info.get("data_offsets"), "data_offsets", 2);
            long begin = offsets[0];
            long end = offsets[1];
            if (begin > end) {
                throw new BadModelFileException(what + ": data_offsets " + Arrays.toString(offsets)
                        + " end before they begin");
            }
            if (end > dataSize) {
                throw new BadModelFileException(what + ": data_offsets " + Arrays.toString(offsets)
                        + " lie outside the data section (" + dataSize + " bytes after the header): truncated or corrupt");
            }
            long bytes = byteSize(what, type, shape);
            if (bytes != end - begin) {
                throw new BadModelFileException(what + ": shape " + Arrays.toString(shape) + " of " + type + " needs "
                        + bytes + " bytes but data_offsets " + Arrays.toString(offsets) + " span " + (end - begin));
            }
            entries.add(new Entry(name, type, shape, begin, end));
        }

        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.removeIf(e -> e.begin == e.end);
        byOffset.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < byOffset.size(); i++) {
            Entry previous = byOffset.get(i - 1);
            Entry e = byOffset.get(i);
            if (e.begin < previous.end) {
                throw new BadModelFileException(file + ": tensors '" + previous.name + "' [" + previous.begin + ", "
                        + previous.end + ") and '" + e.name + "' [" + e.begin + ", " + e.end + ") overlap");
            }
        }

        Map<String, SafetensorsTensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            MemorySegment view = mapped.asSlice(dataStart + e.begin, e.end - e.begin);
            tensors.put(e.name, new SafetensorsTensor(e.name, e.type, e.shape, view));
        }
        return new SafetensorsFile(path, arena, metadata, Collections.unmodifiableMap(tensors), size);
    }

    private static JsonNode readHeader(String file, byte[] bytes) {
        JsonNode header;
        try {
            header = JSON.readTree(bytes);
        } catch (JacksonException e) {
            throw new BadModelFileException(file + ": header is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new BadModelFileException(file + ": cannot parse the header: " + e.getMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new BadModelFileException(file + ": header should be a JSON object, was "
                    + (header == null ? "empty" : header.getNodeType().toString().toLowerCase()));
        }
        return header;
    }

    private static Map<String, String> readMetadata(String file, JsonNode node) {
        if (!node.isObject()) {
            throw new BadModelFileException(file + ": " + METADATA + " should be an object of strings, was " + node);
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new BadModelFileException(file + ": " + METADATA + " value '" + e.getKey()
                        + "' should be a string, was " + e.getValue());
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return Collections.unmodifiableMap(out);
    }

    /** An array of non-negative integers; {@code length} -1 accepts any length. */
    private static long[] longs(String what, JsonNode node, String field, int length) {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw new BadModelFileException(what + ": '" + field + "' should be an array of "
                    + (length >= 0 ? length + " " : "") + "integers, was " + node);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0) {
                throw new BadModelFileException(what + ": '" + field + "' should hold non-negative integers, was " + node);
            }
            out[i] = v.asLong();
        }
        return out;
    }

    private static long byteSize(String what, SafetensorsType type, long[] shape) {
        try {
            long elements = 1;
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            long bits = Math.multiplyExact(elements, (long) type.bits());
            if (bits % 8 != 0) {
                throw new BadModelFileException(what + ": shape " + Arrays.toString(shape) + " of " + type
                        + " is not a whole number of bytes");
            }
            return bits / 8;
        } catch (ArithmeticException e) {
            throw new BadModelFileException(what + ": byte size of shape " + Arrays.toString(shape) + " overflows");
        }
    }

    public Path path() {
        return path;
    }

    /** The string map under {@code __metadata__} (empty if absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** All tensors in header order. */
    public Map<String, SafetensorsTensor> tensors() {
        return tensors;
    }

    /** The tensor of that name, or null. */
    public SafetensorsTensor tensor(String name) {
        return tensors.get(name);
    }

    public long size() {
        return size;
    }

    @Override
    public void close() {
        arena.close();
    }
}
