package dev.moe4j.format.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.kernels.DType;
import dev.moe4j.testutil.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Our quantiser against llama-quantize: the fixture's q8_0 / q4_0 files were made from its f32 file. */
class GgufQuantizerTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"qwen3-dense-tiny, Q8_0", "qwen3-dense-tiny, Q4_0", "qwen3-moe-tiny, Q8_0", "qwen3-moe-tiny, Q4_0"})
    void bytesEqualLlamaQuantize(String stem, DType type) throws Exception {
        Path out = dir.resolve("out.gguf");
        GgufQuantizer.quantize(Fixtures.model(stem + ".f32.gguf"), out, type, line -> { });
        try (GgufFile ours = GgufFile.open(out);
             GgufFile reference = GgufFile.open(Fixtures.model(stem + "." + type.name().toLowerCase() + ".gguf"))) {
            assertEquals(reference.tensors().keySet(), ours.tensors().keySet());
            int quantized = 0;
            for (GgufTensor ref : reference.tensors().values()) {
                GgufTensor got = ours.tensor(ref.name());
                assertEquals(ref.type(), got.type(), ref.name());
                assertEquals(java.util.Arrays.toString(ref.dims()), java.util.Arrays.toString(got.dims()), ref.name());
                long mismatch = ref.data().mismatch(got.data());
                assertEquals(-1, mismatch, ref.name() + ": first differing byte at " + mismatch);
                quantized += ref.type() == GgmlType.valueOf(type.name()) ? 1 : 0;
            }
            assertTrue(quantized > 0, "some tensors are quantized");
            assertEquals(reference.metadata().getLong("general.file_type"), ours.metadata().getLong("general.file_type"));
        }
    }
}
