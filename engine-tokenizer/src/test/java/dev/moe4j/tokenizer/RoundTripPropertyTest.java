package dev.moe4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.text.Normalizer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Properties over random text from fixed seeds, on the real Qwen3 vocabulary. */
class RoundTripPropertyTest {
    private static final int STRINGS = 12_000;

    private final Tokenizer tokenizer = Qwen3Fixtures.tokenizer();

    /**
     * What {@code decode(encode(text))} must give: lone surrogates as U+FFFD, added tokens kept, and NFC applied to
     * the text between added tokens (not across them: {@code ">"} + U+0338 would compose to {@code "≯"}), found here
     * the slow way.
     */
    static String expectedRoundTrip(Tokenizer tokenizer, String text, boolean parseSpecial) {
        String clean = Utf8.replaceLoneSurrogates(text);
        if (!parseSpecial) {
            return Normalizer.normalize(clean, Normalizer.Form.NFC);
        }
        StringBuilder out = new StringBuilder();
        int segmentStart = 0;
        int i = 0;
        while (i < clean.length()) {
            String longest = null;
            for (AddedToken token : tokenizer.addedTokens()) {
                // the first-character test first: fuzzing traces every startsWith call, which made it slow
                if (token.content().charAt(0) == clean.charAt(i) && clean.startsWith(token.content(), i)
                        && (longest == null || token.content().length() > longest.length())) {
                    longest = token.content();
                }
            }
            if (longest == null) {
                i++;
                continue;
            }
            out.append(Normalizer.normalize(clean.substring(segmentStart, i), Normalizer.Form.NFC)).append(longest);
            i += longest.length();
            segmentStart = i;
        }
        return out.append(Normalizer.normalize(clean.substring(segmentStart), Normalizer.Form.NFC)).toString();
    }

    /** Decodes id by id, checking that no chunk splits a character, and returns the concatenation. */
    static String streamDecode(Tokenizer tokenizer, int[] ids, boolean skipSpecialTokens) {
        IncrementalDecoder decoder = tokenizer.newDecoder(skipSpecialTokens);
        StringBuilder text = new StringBuilder();
        for (int id : ids) {
            String chunk = decoder.next(id);
            assertEquals(chunk, Utf8.replaceLoneSurrogates(chunk), "a chunk never holds half a surrogate pair");
            text.append(chunk);
        }
        return text.append(decoder.flush()).toString();
    }

    @Test
    void decodeOfEncodeIsTheNfcText() {
        RandomText random = new RandomText(42);
        for (int i = 0; i < STRINGS; i++) {
            String text = random.next();
            for (boolean parseSpecial : new boolean[] {true, false}) {
                int[] ids = tokenizer.encode(text, parseSpecial);
                assertEquals(expectedRoundTrip(tokenizer, text, parseSpecial), tokenizer.decode(ids),
                        () -> ReferenceCasesTest.describe(text) + " parseSpecial=" + parseSpecial);
                if (!parseSpecial) {
                    assertTrue(Arrays.stream(ids).noneMatch(tokenizer::isAddedToken),
                            () -> "no added token from plain text: " + ReferenceCasesTest.describe(text));
                }
            }
        }
    }

    @Test
    void streamingDecodeEqualsOneShotDecode() {
        RandomText random = new RandomText(43);
        for (int i = 0; i < STRINGS; i++) {
            String text = random.next();
            int[] ids = tokenizer.encode(text);
            for (boolean skip : new boolean[] {false, true}) {
                assertEquals(tokenizer.decode(ids, skip), streamDecode(tokenizer, ids, skip),
                        () -> ReferenceCasesTest.describe(text));
            }
        }
    }

    @Test
    void streamingDecodeEqualsOneShotDecodeOnRandomIds() {
        // Arbitrary id sequences produce invalid and truncated UTF-8, which both paths must replace alike.
        SplittableRandom random = new SplittableRandom(44);
        int vocabSize = tokenizer.vocabSize();
        for (int i = 0; i < 5_000; i++) {
            int[] ids = new int[random.nextInt(12)];
            for (int k = 0; k < ids.length; k++) {
                // Mostly single-byte tokens (ids < 256 include all continuation and lead bytes), some of everything.
                ids[k] = random.nextInt(3) == 0 ? random.nextInt(vocabSize) : random.nextInt(256);
            }
            for (boolean skip : new boolean[] {false, true}) {
                assertEquals(tokenizer.decode(ids, skip), streamDecode(tokenizer, ids, skip), Arrays.toString(ids));
            }
        }
    }

    @Test
    void loneSurrogatesEncodeAsTheReplacementCharacter() {
        // Documented choice: an unpaired surrogate is encoded as U+FFFD (bytes EF BF BD), not as '?' as
        // String.getBytes would, and not dropped.
        assertEquals(Arrays.toString(tokenizer.encode("a\uFFFDb")), Arrays.toString(tokenizer.encode("a\uD800b")));
        assertEquals("a\uFFFDb", tokenizer.decode(tokenizer.encode("a\uDC00b")));
        assertEquals("😀\uFFFD", tokenizer.decode(tokenizer.encode("😀\uD83D")));
        assertFalse(tokenizer.decode(tokenizer.encode("\uD800")).contains("?"));
    }
}
