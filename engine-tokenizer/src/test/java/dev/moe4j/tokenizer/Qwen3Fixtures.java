package dev.moe4j.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The real Qwen3 tokenizer and its reference cases, from src/test/resources/tokenizer (see PROVENANCE.md). */
final class Qwen3Fixtures {
    private Qwen3Fixtures() {}

    /** Loaded once per test JVM: parsing the 11 MB tokenizer.json takes about a second. */
    static Tokenizer tokenizer() {
        return Holder.TOKENIZER;
    }

    private static final class Holder {
        static final Tokenizer TOKENIZER = load();

        private static Tokenizer load() {
            try (InputStream json = open("tokenizer.json"); InputStream config = open("tokenizer_config.json")) {
                return Tokenizer.fromHuggingFace(json, config);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** A fixture file; a missing one fails the test, never skips it. */
    static InputStream open(String name) {
        InputStream in = Qwen3Fixtures.class.getResourceAsStream("/tokenizer/" + name);
        if (in == null) {
            throw new IllegalStateException("missing test resource tokenizer/" + name + " (copy it from "
                    + "/work/shared/fixtures/tokenizer, see PROVENANCE.md)");
        }
        return in;
    }

    static String read(String name) {
        try (InputStream in = open(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
