package dev.moe4j.format.gguf;

import dev.moe4j.api.BadModelFileException;
import dev.moe4j.format.MappedFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF (v2 or v3) file mapped into memory. The header (metadata and tensor directory) is parsed and validated
 * on open; tensor data stays in the mapping and is exposed as {@link MemorySegment} views. Files larger than
 * 2 GiB are fine. Close it to unmap; views are invalid afterwards.
 */
public final class GgufFile implements AutoCloseable {

    private static final int MAGIC = 0x46554747; // "GGUF" read little-endian
    private static final int MAX_DIMS = 4;
    private static final int DEFAULT_ALIGNMENT = 32;

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapped;
    private final int version;
    private final GgufMetadata metadata;
    private final Map<String, GgufTensor> tensors;
    private final long dataStart;

    private GgufFile(Path path, Arena arena, MemorySegment mapped, int version, GgufMetadata metadata,
                     Map<String, GgufTensor> tensors, long dataStart) {
        this.path = path;
        this.arena = arena;
        this.mapped = mapped;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.dataStart = dataStart;
    }

    /** Maps and parses {@code path}; any defect raises a {@link BadModelFileException} naming it. */
    public static GgufFile open(Path path) {
        return MappedFile.open(path, "model file", GgufFile::parse);
    }

    /** Parses a mapping (or any segment holding a whole file: the fuzz tests pass heap bytes). */
    static GgufFile parse(Path path, Arena arena, MemorySegment mapped) {
        String file = path.toString();
        GgufCursor in = new GgufCursor(file, mapped);
        if (mapped.byteSize() < 4) {
            throw new BadModelFileException(file + ": not a GGUF file (only " + mapped.byteSize() + " bytes)");
        }
        int magic = in.i32("magic");
        if (magic != MAGIC) {
            throw new BadModelFileException(file + ": not a GGUF file: magic is 0x"
                    + String.format("%08x", Integer.reverseBytes(magic)) + ", expected 0x47475546 ('GGUF')");
        }
        int version = in.i32("version");
        if (version != 2 && version != 3) {
            throw new BadModelFileException(file + ": GGUF version " + Integer.toUnsignedString(version)
                    + " is not supported (versions 2 and 3 are)");
        }
        // a tensor entry takes at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes
        long tensorCount = in.count("tensor count", 24);
        // a key-value entry takes at least 8 (key length) + 4 (type) bytes
        long kvCount = in.count("metadata entry count", 12);
        GgufMetadata metadata = GgufMetadata.read(file, in, kvCount);

        int alignment = DEFAULT_ALIGNMENT;
        if (metadata.contains("general.alignment")) {
            long a = metadata.getLong("general.alignment");
            if (a <= 0 || a > (1 << 20) || (a & (a - 1)) != 0) {
                throw new BadModelFileException(file + ": general.alignment " + a + " is not a power of two");
            }
            alignment = (int) a;
        }

        record Entry(String name, GgmlType type, long[] dims, long elements, long offset) {}
        List<Entry> entries = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = in.string("tensor " + i + " name");
            int nDims = in.i32("tensor '" + name + "' dimension count");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new BadModelFileException(file + ": tensor '" + name + "' has " + nDims
                        + " dimensions (1 to " + MAX_DIMS + " allowed)");
            }
            long[] dims = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                dims[d] = in.i64("tensor '" + name + "' dimension " + d);
                if (dims[d] <= 0) {
                    throw new BadModelFileException(file + ": tensor '" + name + "' dimension " + d + " is "
                            + Long.toUnsignedString(dims[d]));
                }
                try {
                    elements = Math.multiplyExact(elements, dims[d]);
                } catch (ArithmeticException e) {
                    throw new BadModelFileException(file + ": tensor '" + name + "' element count overflows: dims "
                            + java.util.Arrays.toString(dims));
                }
            }
            int typeId = in.i32("tensor '" + name + "' type");
            GgmlType type = GgmlType.byId(typeId);
            if (type == null) {
                throw new BadModelFileException(file + ": tensor '" + name + "' has unknown tensor type id " + typeId);
            }
            long offset = in.i64("tensor '" + name + "' offset");
            entries.add(new Entry(name, type, dims, elements, offset));
        }
        long dataStart = alignUp(in.position(), alignment);
        if (dataStart > mapped.byteSize()) {
            throw new BadModelFileException(file + ": truncated: tensor data would start at " + dataStart
                    + " but the file has " + mapped.byteSize() + " bytes");
        }
        long dataSize = mapped.byteSize() - dataStart;

        Map<String, GgufTensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            if (e.dims[0] % e.type.blockSize() != 0) {
                throw new BadModelFileException(file + ": tensor '" + e.name + "' of type " + e.type + " has "
                        + e.dims[0] + " columns, not a multiple of its block size " + e.type.blockSize());
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(e.elements / e.type.blockSize(), (long) e.type.blockBytes());
            } catch (ArithmeticException ex) {
                throw new BadModelFileException(file + ": tensor '" + e.name + "' byte size overflows");
            }
            if (e.offset < 0 || e.offset % alignment != 0) {
                throw new BadModelFileException(file + ": tensor '" + e.name + "' offset "
                        + Long.toUnsignedString(e.offset) + " is not a multiple of the alignment " + alignment);
            }
            if (e.offset > dataSize || bytes > dataSize - e.offset) {
                throw new BadModelFileException(file + ": tensor '" + e.name + "' data [" + (dataStart + e.offset)
                        + ", " + (dataStart + e.offset + bytes) + ") lies outside the file (" + mapped.byteSize()
                        + " bytes): truncated or corrupt");
            }
            MemorySegment view = mapped.asSlice(dataStart + e.offset, bytes);
            if (tensors.put(e.name, new GgufTensor(e.name, e.type, e.dims, e.elements, e.offset, view)) != null) {
                throw new BadModelFileException(file + ": tensor '" + e.name + "' appears twice");
            }
        }
        return new GgufFile(path, arena, mapped, version, metadata, Collections.unmodifiableMap(tensors), dataStart);
    }

    private static long alignUp(long value, int alignment) {
        return (value + alignment - 1) / alignment * alignment;
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    /** All tensors in file order. */
    public Map<String, GgufTensor> tensors() {
        return tensors;
    }

    /** The tensor of that name, or null. */
    public GgufTensor tensor(String name) {
        return tensors.get(name);
    }

    public long dataStart() {
        return dataStart;
    }

    public long size() {
        return mapped.byteSize();
    }

    @Override
    public void close() {
        arena.close();
    }
}
