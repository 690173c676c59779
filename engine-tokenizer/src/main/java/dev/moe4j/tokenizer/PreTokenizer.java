package dev.moe4j.tokenizer;

/**
 * Qwen2's pre-tokenizer split, hand-written over code points. It finds the same pieces as Hugging Face's
 * {@code Split} with {@link #PATTERN} (Oniguruma, behaviour "Isolated"), 5–11× faster than the same pattern in
 * {@code java.util.regex} (which the tests use as the reference).
 *
 * <p>The pattern's alternatives, tried left to right at each position:
 * <ol>
 *   <li>{@code (?i:'s|'t|'re|'ve|'m|'ll|'d)} — case-insensitive with Unicode simple case folding, so {@code ſ}
 *       (U+017F) counts as {@code s};
 *   <li>{@code [^\r\n\p{L}\p{N}]?\p{L}+} — a letter run, with at most one leading character that is neither CR/LF,
 *       letter nor number (often a space);
 *   <li>{@code \p{N}} — one number character: digits never group;
 *   <li>{@code  ?[^\s\p{L}\p{N}]+[\r\n]*} — a symbol run, with an optional leading space and trailing CR/LFs;
 *   <li>{@code \s*[\r\n]+} — whitespace up to and including its last CR/LF;
 *   <li>{@code \s+(?!\S)} — whitespace not followed by a non-space: all but the last of a run that precedes text,
 *       or the whole run at the end;
 *   <li>{@code \s+} — a single whitespace character before text.
 * </ol>
 * {@code \s} is Unicode White_Space, as in Oniguruma and Python {@code regex} (so NBSP, U+3000 and U+0085 are
 * spaces, U+FEFF is not; JavaScript's {@code \s} differs on the last two). The alternatives cover every character,
 * so the pieces tile the text.
 */
final class PreTokenizer {
    /** The regex from Qwen's tokenizer.json that this class implements; loading any other one is refused. */
    static final String PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    // Character classes; every character is exactly one of them. CR_LF and SPACE together are \s.
    private static final byte LETTER = 0;
    private static final byte NUMBER = 1;
    private static final byte CR_LF = 2;
    private static final byte SPACE = 3;
    private static final byte OTHER = 4;

    /** The class of every BMP character. */
    private static final byte[] BMP_CLASS = new byte[0x10000];

    static {
        for (int c = 0; c < BMP_CLASS.length; c++) {
            BMP_CLASS[c] = classify(c);
        }
    }

    private PreTokenizer() {}

    private static byte classify(int cp) {
        if (cp == '\r' || cp == '\n') {
            return CR_LF;
        }
        if (isWhiteSpace(cp)) {
            return SPACE;
        }
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                    Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            default -> OTHER;
        };
    }

    /** Unicode's White_Space property (stable since Unicode 6.3); differs from {@link Character#isWhitespace}. */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }

    /** The class of the code point starting at {@code text[i]}, which must hold no unpaired surrogate. */
    private static byte classAt(String text, int i) {
        char c = text.charAt(i);
        if (!Character.isHighSurrogate(c)) {
            return BMP_CLASS[c];
        }
        return classify(Character.toCodePoint(c, text.charAt(i + 1))); // no supplementary character is \s
    }

    private static int charCountAt(String text, int i) {
        return Character.isHighSurrogate(text.charAt(i)) ? 2 : 1;
    }

    /**
     * The end of the piece that starts at {@code start} in {@code text[start, end)}. Calling it again from each
     * returned end splits the whole range. The text must hold no unpaired surrogate.
     */
    static int pieceEnd(String text, int start, int end) {
        char first = text.charAt(start);
        byte cls = classAt(text, start);
        int next = start + charCountAt(text, start);

        if (first == '\'' && next < end) {
            int contraction = contractionEnd(text, next, end);
            if (contraction > 0) {
                return contraction;
            }
        }
        if (cls == LETTER) {
            return letterRunEnd(text, next, end);
        }
        if (cls != NUMBER && cls != CR_LF && next < end && classAt(text, next) == LETTER) {
            return letterRunEnd(text, next, end);
        }
        if (cls == NUMBER) {
            return next;
        }
        if (cls == OTHER) {
            return symbolRunEnd(text, next, end);
        }
        if (first == ' ' && next < end && classAt(text, next) == OTHER) {
            return symbolRunEnd(text, next, end);
        }
        return whitespaceEnd(text, start, end);
    }

    /** Alternative 1 after the apostrophe at {@code at - 1}: the contraction's end, or -1. */
    private static int contractionEnd(String text, int at, int end) {
        char c = foldAscii(text.charAt(at));
        if (c == 's' || c == 't' || c == 'm' || c == 'd') {
            return at + 1;
        }
        if (at + 1 < end) {
            char c2 = foldAscii(text.charAt(at + 1));
            if ((c == 'r' && c2 == 'e') || (c == 'v' && c2 == 'e') || (c == 'l' && c2 == 'l')) {
                return at + 2;
            }
        }
        return -1;
    }

    /** Lower case for ASCII letters, and {@code ſ} → {@code s} (Unicode case folding); anything else unchanged. */
    private static char foldAscii(char c) {
        if (c >= 'A' && c <= 'Z') {
            return (char) (c + ('a' - 'A'));
        }
        return c == '\u017F' ? 's' : c;
    }

    private static int letterRunEnd(String text, int i, int end) {
        while (i < end && classAt(text, i) == LETTER) {
            i += charCountAt(text, i);
        }
        return i;
    }

    /** Alternative 4 from its second symbol on: more symbols, then any CR/LFs. */
    private static int symbolRunEnd(String text, int i, int end) {
        while (i < end && classAt(text, i) == OTHER) {
            i += charCountAt(text, i);
        }
        while (i < end && BMP_CLASS[text.charAt(i)] == CR_LF) {
            i++;
        }
        return i;
    }

    /** Alternatives 5–7 for a whitespace character at {@code start}; all whitespace is in the BMP. */
    private static int whitespaceEnd(String text, int start, int end) {
        int runEnd = start;
        int lastCrLf = -1;
        while (runEnd < end) {
            byte cls = BMP_CLASS[text.charAt(runEnd)];
            if (cls == CR_LF) {
                lastCrLf = runEnd;
            } else if (cls != SPACE) {
                break;
            }
            runEnd++;
        }
        if (lastCrLf >= 0) {
            return lastCrLf + 1; // \s*[\r\n]+: \s* gives back the run's tail up to its last CR/LF
        }
        if (runEnd == end || runEnd - start == 1) {
            return runEnd; // \s+(?!\S) at the end of the text, or \s+ for a single space before text
        }
        return runEnd - 1; // \s+(?!\S): the last space stays to join the following piece
    }
}
