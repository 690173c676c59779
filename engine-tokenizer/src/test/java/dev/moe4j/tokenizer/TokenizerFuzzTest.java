package dev.moe4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Arrays;

/**
 * The tokenizer under arbitrary input: {@code tokenizer.json} (+ {@code tokenizer_config.json}) as bytes, arbitrary
 * strings through the real Qwen3 tokenizer's encode and decode, arbitrary id sequences through decode. Loading fails
 * only with {@link TokenizerException} (or the {@link IOException} of unreadable JSON, as declared); encoding never
 * fails and {@code decode(encode(s))} is {@code s} with lone surrogates as U+FFFD and NFC applied between added tokens
 * (Qwen3's normaliser is NFC); decoding fails only on an id outside the vocabulary, and streaming decodes the same.
 * Corpus: {@code TokenizerFuzzTestInputs/}.
 */
class TokenizerFuzzTest {
    private static final String SAMPLE = "Hello, wörld! e\u0301 中文 😀 12345 <think>x</think> <|im_end|>\n\t  end";

    /** tokenizer.json, then a NUL byte and tokenizer_config.json (without a NUL: no config file). */
    @FuzzTest(maxDuration = "2m")
    void loadTokenizerJson(byte[] bytes) {
        int nul = 0;
        while (nul < bytes.length && bytes[nul] != 0) {
            nul++;
        }
        Tokenizer tokenizer;
        try {
            tokenizer = Tokenizer.fromHuggingFace(new ByteArrayInputStream(bytes, 0, nul),
                    nul < bytes.length ? new ByteArrayInputStream(bytes, nul + 1, bytes.length - nul - 1) : null);
        } catch (TokenizerException | IOException e) {
            return;
        }
        // any tokenizer that loads is a byte-level BPE over all 256 bytes: plain text round-trips
        String expected = tokenizer.decode(tokenizer.encode(SAMPLE, false));
        assertTrue(expected.equals(SAMPLE) || expected.equals(Normalizer.normalize(SAMPLE, Normalizer.Form.NFC)),
                expected);
        int[] withSpecials = tokenizer.encode(SAMPLE, true);
        assertEquals(tokenizer.decode(withSpecials), RoundTripPropertyTest.streamDecode(tokenizer, withSpecials, false));
    }

    /**
     * The first byte holds flags (bit 0: parse special tokens; bit 1: the rest is UTF-16LE code units, lone surrogates
     * included, rather than UTF-8).
     */
    @FuzzTest(maxDuration = "2m")
    void encodeDecode(byte[] bytes) {
        if (bytes.length == 0) {
            return;
        }
        boolean parseSpecial = (bytes[0] & 1) != 0;
        String text;
        if ((bytes[0] & 2) != 0) {
            // raw code units: a charset decoder would replace the lone surrogates this mode is for
            char[] units = new char[(bytes.length - 1) / 2];
            ByteBuffer.wrap(bytes, 1, units.length * 2).order(ByteOrder.LITTLE_ENDIAN).asCharBuffer().get(units);
            text = new String(units);
        } else {
            text = new String(bytes, 1, bytes.length - 1, StandardCharsets.UTF_8);
        }
        Tokenizer tokenizer = Qwen3Fixtures.tokenizer();
        int[] ids = tokenizer.encode(text, parseSpecial);
        String expected = RoundTripPropertyTest.expectedRoundTrip(tokenizer, text, parseSpecial);
        assertEquals(expected, tokenizer.decode(ids), () -> ReferenceCasesTest.describe(text));
        assertEquals(expected, RoundTripPropertyTest.streamDecode(tokenizer, ids, false));
        if (!parseSpecial) {
            assertFalse(Arrays.stream(ids).anyMatch(tokenizer::isAddedToken), "no added token from plain text");
        }
    }

    /**
     * The first byte's bit 0 is skipSpecialTokens; then each 3 bytes (big-endian, minus 8) are one id, so ids run from
     * -8 past the end of the vocabulary.
     */
    @FuzzTest(maxDuration = "2m")
    void decodeIds(byte[] bytes) {
        if (bytes.length == 0) {
            return;
        }
        boolean skipSpecial = (bytes[0] & 1) != 0;
        int[] ids = new int[(bytes.length - 1) / 3];
        for (int i = 0; i < ids.length; i++) {
            int at = 1 + 3 * i;
            ids[i] = ((bytes[at] & 0xFF) << 16 | (bytes[at + 1] & 0xFF) << 8 | (bytes[at + 2] & 0xFF)) - 8;
        }
        Tokenizer tokenizer = Qwen3Fixtures.tokenizer();
        boolean allDefined = Arrays.stream(ids).allMatch(id -> id >= 0 && id < tokenizer.vocabSize()
                && definedId(tokenizer, id));
        if (!allDefined) {
            assertThrows(TokenizerException.class, () -> tokenizer.decode(ids, skipSpecial));
            return;
        }
        String text = tokenizer.decode(ids, skipSpecial);
        assertEquals(text, RoundTripPropertyTest.streamDecode(tokenizer, ids, skipSpecial));
        if (skipSpecial) {
            int[] kept = Arrays.stream(ids).filter(id -> !tokenizer.isSpecial(id)).toArray();
            assertEquals(tokenizer.decode(kept, false), text);
        }
        assertEquals(text, new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8),
                "well-formed UTF-16: invalid bytes became U+FFFD");
    }

    private static boolean definedId(Tokenizer tokenizer, int id) {
        try {
            tokenizer.token(id);
            return true;
        } catch (TokenizerException e) {
            return false;
        }
    }
}
