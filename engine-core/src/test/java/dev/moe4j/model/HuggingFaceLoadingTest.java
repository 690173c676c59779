package dev.moe4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.api.BadModelFileException;
import dev.moe4j.api.Moe4jException;
import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufTensor;
import dev.moe4j.format.safetensors.SafetensorsCheckpoint;
import dev.moe4j.format.safetensors.SafetensorsTensor;
import dev.moe4j.format.safetensors.SafetensorsType;
import dev.moe4j.format.safetensors.SafetensorsWriter;
import dev.moe4j.kernels.DType;
import dev.moe4j.testutil.Fixtures;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hugging Face directories rewritten from the fixtures: resharded, converted, and broken in each way that matters. */
class HuggingFaceLoadingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DENSE = "qwen3-dense-tiny";
    private static final String MOE = "qwen3-moe-tiny-sharded";

    @TempDir
    Path tmp;

    /** A copy of a fixture's side files (config, generation config, tokenizer) without its weights. */
    private Path sideFiles(String fixture, String name) throws IOException {
        Path out = Files.createDirectories(tmp.resolve(name));
        for (String file : List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(Fixtures.hfDir(fixture).resolve(file), out.resolve(file));
        }
        return out;
    }

    /** Every tensor of a fixture, through the reader (for rewriting). */
    private static List<SafetensorsTensor> tensors(SafetensorsCheckpoint c) {
        return new ArrayList<>(c.tensors().values());
    }

    /** The fixture's side files plus its tensors, edited, in one model.safetensors. */
    private Path rewrite(String fixture, String name, Consumer<List<SafetensorsTensor>> edit) throws IOException {
        Path out = sideFiles(fixture, name);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(Fixtures.hfDir(fixture))) {
            List<SafetensorsTensor> list = tensors(c);
            edit.accept(list);
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
            list.forEach(w::add);
            w.write(out.resolve(SafetensorsCheckpoint.SINGLE_FILE));
        }
        return out;
    }

    private static void editConfig(Path dir, Consumer<ObjectNode> edit) throws IOException {
        Path file = dir.resolve("config.json");
        ObjectNode config = (ObjectNode) JSON.readTree(file.toFile());
        edit.accept(config);
        Files.writeString(file, config.toPrettyString());
    }

    /** Bit-identical comparisons use the deterministic kernels (see {@link HuggingFaceFixtureTest#DETERMINISTIC}). */
    private static float[] logits(Path model, int[] tokens) throws Exception {
        return HuggingFaceFixtureTest.deterministicLogits(model, tokens);
    }

    private static <E extends Moe4jException> E assertLoadFails(Class<E> type, Path model, String... parts) {
        E e = assertThrows(type, () -> Model.load(model).close());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should contain '" + part + "'");
        }
        return e;
    }

    @Test
    void shardedCopyGivesBitIdenticalLogits() throws Exception {
        int[] tokens = Fixtures.ref("qwen3-dense-tiny.f32").tokens();
        float[] unsharded = logits(Fixtures.hfDir(DENSE), tokens);
        for (int shards : new int[] {2, 3}) {
            Path dir = sideFiles(DENSE, "sharded" + shards);
            try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(Fixtures.hfDir(DENSE))) {
                SafetensorsWriter.writeSharded(dir, tensors(c), shards);
            }
            try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
                assertEquals(shards, c.files().size());
                assertEquals(24, c.tensors().size()); // 2 layers × 11 + embedding + final norm (tied: no lm_head)
            }
            assertArrayEquals(unsharded, logits(dir, tokens), shards + " shards");
        }
    }

    @Test
    void unshardedMoeGivesBitIdenticalLogits() throws Exception {
        int[] tokens = Fixtures.ref("qwen3-moe-tiny.f32").tokens();
        Path single = rewrite(MOE, "moe-single", list -> { });
        assertArrayEquals(logits(Fixtures.hfDir(MOE), tokens), logits(single, tokens));
    }

    /** The F16 GGUF twin rewritten as a Hugging Face directory through the name table: F16 used in place. */
    @Test
    void f16CheckpointMatchesItsGgufTwin() throws Exception {
        Path dir = sideFiles("qwen3-dense-half-bf16", "f16");
        Fixtures.Ref ref = Fixtures.ref("qwen3-dense-half.f16");
        try (GgufFile gguf = GgufFile.open(ref.gguf())) {
            SafetensorsWriter w = new SafetensorsWriter();
            for (TensorName name : TensorName.values()) {
                for (int layer = 0; layer < (name.isPerLayer() ? 2 : 1); layer++) {
                    GgufTensor t = gguf.tensor(name.gguf(layer));
                    if (t != null) {
                        long[] dims = t.dims();
                        long[] shape = dims.length == 1 ? dims : new long[] {dims[1], dims[0]};
                        w.add(name.isPerLayer() ? name.huggingFace(layer) : name.huggingFace(), t.type().name(),
                                shape, t.data());
                    }
                }
            }
            w.write(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE));
        }
        try (Model m = Model.load(dir)) {
            assertEquals(DType.F16, m.weights().layers().get(1).feedForward() instanceof Weights.Dense d
                    ? d.down().type() : null);
        }
        assertArrayEquals(logits(ref.gguf(), ref.tokens()), logits(dir, ref.tokens()));
    }

    @Test
    void tiedEmbeddingsIgnoreAnLmHead() throws Exception {
        Path dir = rewrite(DENSE, "tied-extra-head", list -> {
            SafetensorsTensor embedding = list.stream()
                    .filter(t -> t.name().equals("model.embed_tokens.weight")).findFirst().orElseThrow();
            float[] junk = new float[965 * 256];
            Arrays.fill(junk, 3f);
            list.add(new SafetensorsTensor("lm_head.weight", embedding.type(), embedding.shape(),
                    MemorySegment.ofArray(junk)));
        });
        int[] tokens = Fixtures.ref("qwen3-dense-tiny.f32").tokens();
        assertArrayEquals(logits(Fixtures.hfDir(DENSE), tokens), logits(dir, tokens));
    }

    @Test
    void untiedModelNeedsItsLmHead() throws IOException {
        Path dir = rewrite(DENSE, "untied", list -> { });
        editConfig(dir, c -> c.put("tie_word_embeddings", false));
        assertLoadFails(BadModelFileException.class, dir, "missing tensor 'lm_head.weight'");
        editConfig(dir, c -> c.remove("tie_word_embeddings")); // Hugging Face's default is untied
        assertLoadFails(BadModelFileException.class, dir, "missing tensor 'lm_head.weight'");
    }

    @Test
    void missingConfigJson() throws IOException {
        Path dir = rewrite(DENSE, "noconfig", list -> { });
        Files.delete(dir.resolve("config.json"));
        assertLoadFails(BadModelFileException.class, dir, dir + ": missing config.json");
    }

    @Test
    void missingWeights() throws IOException {
        Path dir = sideFiles(DENSE, "noweights");
        assertLoadFails(BadModelFileException.class, dir,
                "no weights: neither model.safetensors nor model.safetensors.index.json is present");
    }

    @Test
    void missingShard() throws IOException {
        Path dir = sideFiles(MOE, "noshard");
        try (Stream<Path> files = Files.list(Fixtures.hfDir(MOE))) {
            for (Path f : files.filter(f -> f.toString().contains("safetensors")).toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        Files.delete(dir.resolve("model-00002-of-00003.safetensors"));
        assertLoadFails(BadModelFileException.class, dir, "names shard 'model-00002-of-00003.safetensors', which is missing");
    }

    @Test
    void missingExpertIsNamed() throws IOException {
        Path dir = rewrite(MOE, "noexpert",
                list -> list.removeIf(t -> t.name().equals("model.layers.1.mlp.experts.5.up_proj.weight")));
        assertLoadFails(BadModelFileException.class, dir, "missing tensor 'model.layers.1.mlp.experts.5.up_proj.weight'");
    }

    @Test
    void missingOrBadPathIsNamed() throws IOException {
        assertLoadFails(BadModelFileException.class, tmp.resolve("nowhere"), "model " + tmp.resolve("nowhere")
                + " does not exist");
        Path single = Fixtures.hfDir(DENSE).resolve(SafetensorsCheckpoint.SINGLE_FILE);
        assertLoadFails(BadModelFileException.class, single, "is one file of a Hugging Face model: pass its directory");
    }

    @Test
    void unsupportedArchitectureIsNamed() throws IOException {
        Path dir = rewrite(DENSE, "llama", list -> { });
        editConfig(dir, c -> {
            c.put("model_type", "llama");
            c.putArray("architectures").add("LlamaForCausalLM");
        });
        assertLoadFails(UnsupportedModelException.class, dir, "model_type 'llama'", "LlamaForCausalLM",
                "is not supported (supported: qwen3, qwen3_5, qwen3_5_moe, qwen3_5_moe_text, qwen3_5_text, qwen3_moe,"
                        + " qwen3_next)");
        editConfig(dir, c -> {
            c.remove("model_type");
            c.putArray("architectures").add("MixtralForCausalLM");
        });
        assertLoadFails(UnsupportedModelException.class, dir, "architecture 'MixtralForCausalLM' is not supported");
        editConfig(dir, c -> c.remove("architectures"));
        assertLoadFails(BadModelFileException.class, dir, "names no 'model_type' or 'architectures'");
    }

    @Test
    void architectureFromClassNameAlone() throws Exception {
        Path dir = rewrite(DENSE, "classonly", list -> { });
        editConfig(dir, c -> c.remove("model_type"));
        try (Model m = Model.load(dir)) {
            assertEquals("qwen3", m.config().architecture());
        }
    }

    @Test
    void vocabSizeMustMatchTheEmbedding() throws IOException {
        Path dir = rewrite(DENSE, "vocab", list -> { });
        editConfig(dir, c -> c.put("vocab_size", 1000));
        assertLoadFails(BadModelFileException.class, dir,
                "vocab_size 1000 does not match 'model.embed_tokens.weight' of shape [965, 256]");
    }

    @Test
    void wrongShapeOrUnusableDtypeIsNamed() throws IOException {
        String q = "model.layers.0.self_attn.q_proj.weight";
        String up = "model.layers.1.mlp.up_proj.weight";
        Path ints = rewrite(DENSE, "ints", list -> list.replaceAll(t -> !t.name().equals(q) ? t
                : new SafetensorsTensor(t.name(), SafetensorsType.I32, t.shape(), t.data())));
        assertLoadFails(UnsupportedModelException.class, ints, "tensor '" + q + "' has dtype I32",
                "supported: [F16, BF16, F32]");
        Path shape = rewrite(DENSE, "shape", list -> list.replaceAll(t -> !t.name().equals(up) ? t
                : new SafetensorsTensor(t.name(), t.type(), new long[] {256, 512}, t.data())));
        assertLoadFails(BadModelFileException.class, shape, "tensor '" + up + "' has shape [256, 512], expected [512, 256]");
    }

    @Test
    void unsupportedOptionsAreRefused() throws IOException {
        Path dir = rewrite(DENSE, "options", list -> { });
        editConfig(dir, c -> c.putObject("rope_scaling").put("rope_type", "linear").put("factor", 2.0));
        assertLoadFails(UnsupportedModelException.class, dir, "RoPE scaling 'linear' is not supported");
        editConfig(dir, c -> {
            c.putNull("rope_scaling");
            c.put("use_sliding_window", true);
        });
        assertLoadFails(UnsupportedModelException.class, dir, "use_sliding_window true is not supported");
        editConfig(dir, c -> {
            c.put("use_sliding_window", false);
            c.put("hidden_act", "gelu");
        });
        assertLoadFails(UnsupportedModelException.class, dir, "hidden_act 'gelu' is not supported");
        editConfig(dir, c -> {
            c.put("hidden_act", "silu");
            c.put("num_hidden_layers", "two");
        });
        assertLoadFails(BadModelFileException.class, dir, "'num_hidden_layers' should be an integer, was \"two\"");
    }

    @Test
    void missingGenerationConfigFallsBackToConfigJson() throws Exception {
        Path dir = rewrite(DENSE, "nogen", list -> { });
        Files.delete(dir.resolve("generation_config.json"));
        Files.delete(dir.resolve("tokenizer.json"));
        try (Model m = Model.load(dir)) {
            assertEquals(List.of(958), m.generationConfig().eosTokenIds());
            assertEquals(GenerationConfig.DEFAULTS.temperature(), m.generationConfig().temperature());
            HuggingFaceFiles files = m.huggingFaceFiles().orElseThrow();
            BadModelFileException e = assertThrows(BadModelFileException.class, files::tokenizer);
            assertTrue(e.getMessage().contains("missing tokenizer.json"), e.getMessage());
        }
    }
}
