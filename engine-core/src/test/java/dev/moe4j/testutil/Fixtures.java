package dev.moe4j.testutil;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The reference fixtures copied into test resources (see fixtures/PROVENANCE.md). A missing one fails loudly. */
public final class Fixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {}

    public static Path modelsDir() {
        URL url = Fixtures.class.getResource("/fixtures/models");
        if (url == null) {
            throw new IllegalStateException("test resource /fixtures/models is missing");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Path model(String fileName) {
        Path p = modelsDir().resolve(fileName);
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("fixture " + p + " is missing");
        }
        return p;
    }

    /** A Hugging Face model directory under /fixtures/hf (see the fixture README's "hf/" section). */
    public static Path hfDir(String name) {
        Path p = modelsDir().resolveSibling("hf").resolve(name);
        if (!Files.isRegularFile(p.resolve("config.json"))) {
            throw new IllegalStateException("fixture directory " + p + " is missing");
        }
        return p;
    }

    /** One model fixture: its ref.json and the reference an F32-activation engine must match. */
    public record Ref(String stem, JsonNode json) {
        public Path gguf() {
            return model(json.get("model").asText());
        }

        public String weights() {
            return json.get("weights").asText();
        }

        public int[] tokens() {
            return ints(json.get("tokens"));
        }

        public int[] promptTokens() {
            return ints(json.get("prompt_tokens"));
        }

        public int vocab() {
            return json.get("n_vocab").asInt();
        }

        /** The exact-weights logits when the file is not F32, else llama.cpp's own. */
        public float[] expectedLogits() {
            JsonNode exact = json.get("exact_logits_file");
            return readFloats(model((exact != null ? exact : json.get("logits_file")).asText()));
        }

        public int[] expectedGreedy() {
            JsonNode exact = json.get("exact_greedy_from_prompt");
            return ints(exact != null ? exact : json.get("greedy_from_prompt"));
        }

        @Override
        public String toString() {
            return stem;
        }
    }

    public static List<Ref> refs() {
        try (Stream<Path> files = Files.list(modelsDir())) {
            List<Ref> refs = files.filter(p -> p.getFileName().toString().endsWith(".ref.json")).sorted()
                    .map(Fixtures::ref).toList();
            if (refs.isEmpty()) {
                throw new IllegalStateException("no *.ref.json fixtures in " + modelsDir());
            }
            return refs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Ref ref(String stem) {
        return ref(model(stem + ".ref.json"));
    }

    private static Ref ref(Path p) {
        try {
            String name = p.getFileName().toString();
            return new Ref(name.substring(0, name.length() - ".ref.json".length()), JSON.readTree(p.toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static float[] readFloats(Path p) {
        try {
            ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[bytes.remaining() / 4];
            bytes.asFloatBuffer().get(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    /** max |a[i] − b[i]|; the lengths must match. */
    public static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("length " + a.length + " vs " + b.length);
        }
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            if (Double.isNaN(d)) {
                return Double.POSITIVE_INFINITY;
            }
            max = Math.max(max, d);
        }
        return max;
    }
}
