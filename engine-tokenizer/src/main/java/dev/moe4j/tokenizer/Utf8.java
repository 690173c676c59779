package dev.moe4j.tokenizer;

/**
 * UTF-8 both ways, by hand because the tokenizer needs two things the JDK codecs do not give directly: encoding a
 * slice of a string into a reusable buffer, and decoding that stops before an incomplete trailing character so a
 * stream can resume it later.
 *
 * <p>Invalid input is replaced by U+FFFD one "maximal subpart" at a time (Unicode §3.9, WHATWG; the same as Python's
 * {@code errors="replace"}, Rust's {@code from_utf8_lossy} and the JDK decoder). With that rule decoding a byte
 * stream in pieces gives exactly the text of decoding it whole.
 */
final class Utf8 {
    static final char REPLACEMENT = '\uFFFD';

    private Utf8() {}

    /** The text with every unpaired surrogate replaced by U+FFFD; the same instance if it has none. */
    static String replaceLoneSurrogates(String text) {
        int n = text.length();
        int i = 0;
        while (i < n && isPairedOrNotSurrogate(text, i)) {
            i += Character.isHighSurrogate(text.charAt(i)) ? 2 : 1;
        }
        if (i >= n) {
            return text;
        }
        char[] chars = text.toCharArray();
        while (i < n) {
            if (Character.isHighSurrogate(chars[i]) && isPairedOrNotSurrogate(text, i)) {
                i += 2;
                continue;
            }
            if (Character.isSurrogate(chars[i])) {
                chars[i] = REPLACEMENT;
            }
            i++;
        }
        return new String(chars);
    }

    private static boolean isPairedOrNotSurrogate(String text, int i) {
        char c = text.charAt(i);
        if (!Character.isSurrogate(c)) {
            return true;
        }
        return Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1));
    }

    /** Most bytes {@link #encode} writes for {@code chars} UTF-16 units. */
    static int maxBytes(int chars) {
        return 3 * chars;
    }

    /**
     * Writes the UTF-8 bytes of {@code text[from, to)} to {@code out} (at least {@link #maxBytes} long) and returns
     * their count. The slice must hold no unpaired surrogate.
     */
    static int encode(String text, int from, int to, byte[] out) {
        int n = 0;
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                out[n++] = (byte) c;
            } else if (c < 0x800) {
                out[n++] = (byte) (0xC0 | (c >>> 6));
                out[n++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c)) {
                int cp = Character.toCodePoint(c, text.charAt(++i));
                out[n++] = (byte) (0xF0 | (cp >>> 18));
                out[n++] = (byte) (0x80 | ((cp >>> 12) & 0x3F));
                out[n++] = (byte) (0x80 | ((cp >>> 6) & 0x3F));
                out[n++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                out[n++] = (byte) (0xE0 | (c >>> 12));
                out[n++] = (byte) (0x80 | ((c >>> 6) & 0x3F));
                out[n++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        return n;
    }

    /**
     * Decodes {@code bytes[from, to)} into {@code out} and returns where decoding stopped. If {@code endOfInput} is
     * false, an incomplete but so far valid character at the end is left undecoded (the return value points at its
     * first byte); otherwise it becomes one U+FFFD and the return value is {@code to}.
     */
    static int decode(byte[] bytes, int from, int to, boolean endOfInput, StringBuilder out) {
        int i = from;
        while (i < to) {
            int b = bytes[i] & 0xFF;
            if (b < 0x80) {
                out.append((char) b);
                i++;
                continue;
            }
            int need;
            int lower = 0x80;
            int upper = 0xBF;
            int cp;
            if (b >= 0xC2 && b <= 0xDF) {
                need = 1;
                cp = b & 0x1F;
            } else if (b >= 0xE0 && b <= 0xEF) {
                need = 2;
                cp = b & 0x0F;
                if (b == 0xE0) {
                    lower = 0xA0; // no overlong 3-byte forms
                } else if (b == 0xED) {
                    upper = 0x9F; // no encoded surrogates
                }
            } else if (b >= 0xF0 && b <= 0xF4) {
                need = 3;
                cp = b & 0x07;
                if (b == 0xF0) {
                    lower = 0x90; // no overlong 4-byte forms
                } else if (b == 0xF4) {
                    upper = 0x8F; // nothing above U+10FFFF
                }
            } else {
                out.append(REPLACEMENT); // a continuation byte or a byte never used in UTF-8
                i++;
                continue;
            }
            int j = i + 1;
            boolean valid = true;
            for (int k = 0; k < need; k++, j++) {
                if (j >= to) {
                    if (!endOfInput) {
                        return i;
                    }
                    out.append(REPLACEMENT);
                    return to;
                }
                int c = bytes[j] & 0xFF;
                if (c < lower || c > upper) {
                    valid = false;
                    break;
                }
                cp = (cp << 6) | (c & 0x3F);
                lower = 0x80;
                upper = 0xBF;
            }
            if (valid) {
                out.appendCodePoint(cp);
            } else {
                out.append(REPLACEMENT); // bytes[i, j) are the maximal subpart; bytes[j] starts afresh
            }
            i = j;
        }
        return to;
    }
}
