package dev.moe4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Utf8Test {
    /** Random bytes, mostly lead/continuation bytes in plausible places, so that all error paths are hit. */
    private static byte[] randomBytes(SplittableRandom random) {
        byte[] bytes = new byte[random.nextInt(12)];
        for (int i = 0; i < bytes.length; i++) {
            int kind = random.nextInt(6);
            bytes[i] = (byte) switch (kind) {
                case 0 -> random.nextInt(0x80);
                case 1, 2 -> 0x80 + random.nextInt(0x40); // continuation
                case 3 -> 0xC0 + random.nextInt(0x20);
                case 4 -> 0xE0 + random.nextInt(0x10);
                default -> 0xF0 + random.nextInt(0x10);
            };
        }
        return bytes;
    }

    private static String decodeWhole(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        assertEquals(bytes.length, Utf8.decode(bytes, 0, bytes.length, true, out));
        return out.toString();
    }

    /** An encoded surrogate (ED A0..BF), where the JDK decoder departs from the maximal-subpart rule. */
    private static boolean hasEncodedSurrogate(byte[] bytes) {
        for (int i = 0; i + 1 < bytes.length; i++) {
            if ((bytes[i] & 0xFF) == 0xED && (bytes[i + 1] & 0xFF) >= 0xA0 && (bytes[i + 1] & 0xFF) <= 0xBF) {
                return true;
            }
        }
        return false;
    }

    @Test
    void decodingReplacesLikeTheJdkExceptForEncodedSurrogates() {
        // Python's errors="replace" and Rust's from_utf8_lossy replace each maximal subpart; so does the JDK, except
        // that it swallows "ED A0..BF" as one error where they see two (checked ad hoc against Python on all 1-2
        // byte inputs and on 3-5 byte inputs over 25 representative byte values: 10.2 M cases, no difference).
        SplittableRandom random = new SplittableRandom(7);
        int compared = 0;
        for (int i = 0; i < 200_000; i++) {
            byte[] bytes = randomBytes(random);
            if (!hasEncodedSurrogate(bytes)) {
                assertEquals(new String(bytes, StandardCharsets.UTF_8), decodeWhole(bytes),
                        () -> Arrays.toString(bytes));
                compared++;
            }
        }
        assertTrue(compared > 150_000);
    }

    @Test
    void decodingInPiecesEqualsDecodingWhole() {
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < 50_000; i++) {
            byte[] bytes = randomBytes(random);
            StringBuilder streamed = new StringBuilder();
            byte[] pending = new byte[bytes.length];
            int pendingLength = 0;
            int fed = 0;
            while (fed < bytes.length) {
                int chunk = 1 + random.nextInt(3);
                for (int k = 0; k < chunk && fed < bytes.length; k++) {
                    pending[pendingLength++] = bytes[fed++];
                }
                int consumed = Utf8.decode(pending, 0, pendingLength, false, streamed);
                assertTrue(pendingLength - consumed <= 3, "holds back at most an incomplete character");
                System.arraycopy(pending, consumed, pending, 0, pendingLength - consumed);
                pendingLength -= consumed;
            }
            Utf8.decode(pending, 0, pendingLength, true, streamed);
            assertEquals(decodeWhole(bytes), streamed.toString(), () -> Arrays.toString(bytes));
        }
    }

    @Test
    void specificReplacements() {
        assertEquals("\uFFFD", decodeWhole(new byte[] {(byte) 0xE4, (byte) 0xB8}), "incomplete at the end: one");
        assertEquals("\uFFFDa", decodeWhole(new byte[] {(byte) 0xE4, (byte) 0xB8, 'a'}));
        assertEquals("\uFFFD\uFFFD\uFFFD", decodeWhole(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}),
                "an encoded surrogate is three errors, as in Python and Rust (the JDK says two)");
        assertEquals("\uFFFD\uFFFD", decodeWhole(new byte[] {(byte) 0xED, (byte) 0xA7}));
        assertEquals("\uFFFD\uFFFD", decodeWhole(new byte[] {(byte) 0xC0, (byte) 0x80}), "overlong");
        assertEquals("\uD83D\uDE00", decodeWhole(new byte[] {(byte) 0xF0, (byte) 0x9F, (byte) 0x98, (byte) 0x80}));
    }

    @Test
    void encodingMatchesTheJdkOnWellFormedText() {
        RandomText random = new RandomText(3);
        byte[] buffer = new byte[1024];
        for (int i = 0; i < 20_000; i++) {
            String text = Utf8.replaceLoneSurrogates(random.next());
            int n = Utf8.encode(text, 0, text.length(), buffer);
            assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), Arrays.copyOf(buffer, n));
            assertTrue(n <= Utf8.maxBytes(text.length()));
        }
    }

    @Test
    void loneSurrogatesBecomeReplacementCharacters() {
        assertEquals("a\uFFFDb", Utf8.replaceLoneSurrogates("a\uD800b"));
        assertEquals("\uFFFD\uFFFD", Utf8.replaceLoneSurrogates("\uDC00\uD800"), "reversed pair");
        assertEquals("\uD83D\uDE00\uFFFD", Utf8.replaceLoneSurrogates("\uD83D\uDE00\uD83D"));
        String clean = "no surrogates 😀";
        assertSame(clean, Utf8.replaceLoneSurrogates(clean));
    }

    @Test
    void byteLevelMapIsGpt2s() {
        assertEquals('Ġ', ByteLevel.toChar(' '));
        assertEquals('Ċ', ByteLevel.toChar('\n'));
        assertEquals('ĉ', ByteLevel.toChar('\t'));
        assertEquals('\u0100', ByteLevel.toChar(0x00));
        assertEquals('\u0121', ByteLevel.toChar(0x7F));
        assertEquals('\u0143', ByteLevel.toChar(0xAD));
        assertEquals('!', ByteLevel.toChar('!'));
        assertEquals('ÿ', ByteLevel.toChar(0xFF));
        for (int b = 0; b < 256; b++) {
            assertEquals(b, ByteLevel.toByte(ByteLevel.toChar(b)));
        }
        assertEquals(-1, ByteLevel.toByte('\u0144'));
    }
}
