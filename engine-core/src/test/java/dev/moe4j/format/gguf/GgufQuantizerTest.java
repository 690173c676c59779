package dev.moe4j.format.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.testutil.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Our quantiser against llama-quantize: each fixture {@code STEM.TYPE.gguf} was made by it from {@code
 * STEM.f32.gguf} ({@code --pure} for single types, its recipe for the _M mixes), and ours must be the same file.
 */
class GgufQuantizerTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"qwen3-dense-tiny, Q8_0", "qwen3-dense-tiny, Q4_0", "qwen3-moe-tiny, Q8_0", "qwen3-moe-tiny, Q4_0",
            "qwen3-dense-tiny, Q6_K", "qwen3-dense-tiny, Q4_K", "qwen3-dense-tiny, Q5_K",
            "qwen3-dense-tiny, Q4_K_M", "qwen3-dense-tiny, Q5_K_M", "qwen3-moe-tiny, Q4_K_M"})
    void bytesEqualLlamaQuantize(String stem, QuantType type) throws Exception {
        Path out = dir.resolve("out.gguf");
        Path expected = Fixtures.model(stem + "." + type.name().toLowerCase(Locale.ROOT) + ".gguf");
        GgufQuantizer.quantize(Fixtures.model(stem + ".f32.gguf"), out, type, line -> { });
        try (GgufFile ours = GgufFile.open(out); GgufFile reference = GgufFile.open(expected)) {
            assertEquals(reference.tensors().keySet(), ours.tensors().keySet());
            int quantized = 0;
            for (GgufTensor ref : reference.tensors().values()) {
                GgufTensor got = ours.tensor(ref.name());
                assertEquals(ref.type(), got.type(), ref.name());
                assertEquals(Arrays.toString(ref.dims()), Arrays.toString(got.dims()), ref.name());
                long mismatch = ref.data().mismatch(got.data());
                assertEquals(-1, mismatch, ref.name() + ": first differing byte at " + mismatch);
                quantized += ref.type().dtype().isQuantized() ? 1 : 0;
            }
            assertTrue(quantized > 0, "some tensors are quantized");
            assertEquals(reference.metadata().getLong("general.file_type"),
                    ours.metadata().getLong("general.file_type"));
        }
        // the whole file too: key order, tensor order, offsets and padding as llama-quantize writes them
        byte[] want = Files.readAllBytes(expected);
        byte[] got = Files.readAllBytes(out);
        assertEquals(-1, Arrays.mismatch(want, got), "first differing byte of the file");
    }
}
