package dev.moe4j.format.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.moe4j.api.BadModelFileException;
import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.model.ConfigKeys;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Arbitrary bytes as a GGUF file: the header (magic, version, counts), the metadata, the tensor directory, offsets and
 * alignment, then what the loader reads from the metadata (the tokenizer, the model config). A defect is a
 * {@link BadModelFileException} or {@link UnsupportedModelException}, never another exception, an allocation sized
 * by the file's claims, or a tensor view outside the file. The corpus in {@code GgufFuzzTestInputs/} replays in
 * every test run; {@code scripts/fuzz} fuzzes.
 */
class GgufFuzzTest {
    private static final Path PATH = Path.of("fuzz.gguf");

    @FuzzTest(maxDuration = "2m")
    void header(byte[] bytes) {
        GgufFile file;
        try {
            file = GgufFile.parse(PATH, Arena.ofConfined(), MemorySegment.ofArray(bytes));
        } catch (BadModelFileException e) {
            return;
        }
        try (file) {
            long alignment = file.metadata().contains("general.alignment")
                    ? file.metadata().getLong("general.alignment") : 32;
            assertEquals(0, file.dataStart() % alignment, "data section aligned");
            for (GgufTensor t : file.tensors().values()) {
                assertEquals(0, t.offset() % alignment, t.name());
                assertTrue(file.dataStart() + t.offset() + t.data().byteSize() <= bytes.length, t.name());
                assertEquals(t.elementCount() / t.type().blockSize() * t.type().blockBytes(), t.data().byteSize(),
                        t.name());
            }
            readAsTheLoaderDoes(file);
        }
    }

    /** The metadata readers after the header: each may refuse the file, but only with a moe4j exception. */
    private static void readAsTheLoaderDoes(GgufFile file) {
        try {
            GgufTokenizer.fromMetadata(file).encode("Hello <think> world 123");
        } catch (BadModelFileException | UnsupportedModelException e) {
            // refused, naming the problem
        }
        try {
            GgufTokenizer.eosTokenId(file);
        } catch (BadModelFileException e) {
            // refused, naming the problem
        }
        try {
            ConfigKeys.fromGguf(file.metadata(), 1000, file.tensor("output.weight") == null);
        } catch (BadModelFileException | UnsupportedModelException e) {
            // refused, naming the problem
        }
    }
}
