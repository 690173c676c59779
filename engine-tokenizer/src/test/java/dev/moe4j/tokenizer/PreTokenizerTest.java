package dev.moe4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PreTokenizerTest {
    /**
     * The reference: tokenizer.json's regex in java.util.regex, with Unicode classes so that {@code \s} is
     * White_Space and {@code (?i)} folds case by Unicode, as Oniguruma does.
     */
    private static final Pattern REFERENCE = Pattern.compile(PreTokenizer.PATTERN,
            Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE);

    static List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        for (int start = 0; start < text.length(); ) {
            int end = PreTokenizer.pieceEnd(text, start, text.length());
            pieces.add(text.substring(start, end));
            start = end;
        }
        return pieces;
    }

    static List<String> referenceSplit(String text) {
        List<String> pieces = new ArrayList<>();
        Matcher matcher = REFERENCE.matcher(text);
        int covered = 0;
        while (matcher.find()) {
            assertEquals(covered, matcher.start(), "the regex covers every character");
            pieces.add(matcher.group());
            covered = matcher.end();
        }
        assertEquals(text.length(), covered);
        return pieces;
    }

    @Test
    void documentedBehaviour() {
        assertEquals(List.of("Hello", ",", " world", "!"), split("Hello, world!"));
        assertEquals(List.of("I", "'m", " sure", " you", "'ve", " seen"), split("I'm sure you've seen"));
        assertEquals(List.of("DON", "'T"), split("DON'T"));
        assertEquals(List.of("1", "2", "3", "4"), split("1234"), "digits one at a time");
        assertEquals(List.of(" ", " Hello", " ", " world", "  "), split("  Hello  world  "));
        assertEquals(List.of("Hello", "\n\n\n", "world", "\n"), split("Hello\n\n\nworld\n"));
        assertEquals(List.of("a", " \n", " b"), split("a \n b"), "whitespace up to its last newline");
        assertEquals(List.of(" (", "x", ")\n"), split(" (x)\n"), "symbols take a leading space, trailing newlines");
        assertEquals(List.of("\t", "("), split("\t("));
        assertEquals(List.of("\"quoted", "\""), split("\"quoted\""), "a letter run absorbs one leading symbol");
        assertEquals(List.of("\u00A0here"), split("\u00A0here"), "NBSP is a space that joins the next word");
        assertEquals(List.of("'ſ", "t"), split("'ſt"), "ſ folds to s");
        assertEquals(List.of("\uD83D\uDE00\uD83D\uDE03"), split("😀😃"), "never splits a surrogate pair");
        assertEquals(List.of("\uD835\uDC00\uD835\uDC01", "\uD835\uDFCE"), split("𝐀𝐁𝟎"));
        assertEquals(List.of(), split(""));
    }

    @Test
    void agreesWithTheRegexOnRandomText() {
        RandomText random = new RandomText(20250101L);
        for (int i = 0; i < 20_000; i++) {
            String text = Utf8.replaceLoneSurrogates(random.next());
            assertEquals(referenceSplit(text), split(text), () -> ReferenceCasesTest.describe(text));
        }
    }

    @Test
    void agreesWithTheRegexOnEveryCharacterInContext() {
        // Each BMP character and a sample of the others, alone and between a letter, a space, a digit, a newline.
        StringBuilder text = new StringBuilder();
        for (int cp = 0; cp < 0x110000; cp += cp < 0x10000 ? 1 : 97) {
            if (Character.isSurrogate((char) cp) && cp < 0x10000) {
                continue;
            }
            for (String context : new String[] {"a", " ", "1", "\n", "'", "!"}) {
                text.setLength(0);
                text.append(context).appendCodePoint(cp).append(context).appendCodePoint(cp).append(' ')
                        .appendCodePoint(cp).append("x");
                String sample = text.toString();
                assertEquals(referenceSplit(sample), split(sample), () -> Integer.toHexString(sample.codePointAt(1)));
            }
        }
    }
}
