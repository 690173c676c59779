package dev.moe4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * GPT-2's reversible byte ↔ character map (Hugging Face {@code bytes_to_unicode}). Bytes 0x21–0x7E, 0xA1–0xAC and
 * 0xAE–0xFF stand for themselves; the other 68 bytes map, in increasing byte order, to U+0100 … U+0143 (so a
 * space 0x20 is {@code Ġ} U+0120 and a newline 0x0A is {@code Ċ} U+010A). Every vocabulary token is a string over
 * these 256 characters.
 */
final class ByteLevel {
    /** First character above the map's range; every mapped character is below it. */
    private static final int CHAR_LIMIT = 0x144;

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final short[] CHAR_TO_BYTE = new short[CHAR_LIMIT];

    static {
        Arrays.fill(CHAR_TO_BYTE, (short) -1);
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (0x100 + shifted++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = (short) b;
        }
    }

    private ByteLevel() {}

    static char toChar(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte a character stands for, or -1 if it is not one of the 256 mapped characters. */
    static int toByte(char c) {
        return c < CHAR_LIMIT ? CHAR_TO_BYTE[c] : -1;
    }

    /** The byte-level string of raw bytes: one mapped character per byte. */
    static String encode(byte[] bytes, int from, int to) {
        char[] chars = new char[to - from];
        for (int i = from; i < to; i++) {
            chars[i - from] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(chars);
    }

    /**
     * The bytes a token stands for, as Hugging Face's ByteLevel decoder computes them: if every character is a
     * mapped one, the bytes they map to; otherwise (a token that is not byte-level text) its own UTF-8 bytes.
     */
    static byte[] decodeToken(String token) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(token.length());
        for (int i = 0; i < token.length(); i++) {
            int b = toByte(token.charAt(i));
            if (b < 0) {
                return token.getBytes(StandardCharsets.UTF_8);
            }
            bytes.write(b);
        }
        return bytes.toByteArray();
    }
}
