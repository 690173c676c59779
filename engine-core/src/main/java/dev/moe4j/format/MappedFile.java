package dev.moe4j.format;

import dev.moe4j.api.BadModelFileException;
import dev.moe4j.kernels.WeightMemory;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Maps a model file read-only into a shared arena (any thread may read it) and hands it to a parser. */
public final class MappedFile {
    private MappedFile() {}

    /** What a format makes of a mapped file; it owns the arena once it returns. */
    @FunctionalInterface
    public interface Parser<T> {
        T parse(Path path, Arena arena, MemorySegment mapped);
    }

    /**
     * Maps {@code path} and parses it; the arena is closed (unmapping the file) if parsing fails.
     *
     * @param kind for messages, e.g. "model file" or "safetensors file"
     */
    public static <T> T open(Path path, String kind, Parser<T> parser) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            // as the kernels' other memory: see WeightMemory.kernelView
            MemorySegment mapped = WeightMemory.kernelView(
                    channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena));
            return parser.parse(path, arena, mapped);
        } catch (IOException e) {
            arena.close();
            throw new BadModelFileException("cannot read " + kind + " " + path + ": " + e, e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }
}
