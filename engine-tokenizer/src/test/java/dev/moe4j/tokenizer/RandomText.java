package dev.moe4j.tokenizer;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Random strings built from fragments that stress a byte-level BPE tokenizer: ASCII words and contractions,
 * whitespace runs (CR/LF, tabs, NBSP, U+3000, U+0085), digits, punctuation, CJK, Hangul, emoji with ZWJ, skin tones,
 * flags and variation selectors, combining marks (including U+0338, which composes with {@code <} and {@code >}),
 * control characters, supplementary letters and digits, U+FEFF, lone and reversed surrogates, added tokens and
 * near misses.
 */
final class RandomText {
    private static final List<String> FRAGMENTS = List.of(
            "Hello", "world", "the", "tokenizer", "DON'T", "it's", "we'VE", "I'll", "'d", "'", "''", "ſ", "'ſt",
            " ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\n\n", " \n ", "\u00A0", "\u3000", "\u0085", "\u2028",
            "\u000B", "\u000C", "\u001C", "\u001F",
            "0", "7", "42", "3.14", "1,000", "٣", "²", "Ⅻ", "\uD835\uDFCE", // Arabic 3, superscript 2, Roman 12, 𝟎
            ".", ",", "!?", "...", "--", "(", ")", "{", "}", "<", ">", "|", "_", "@", "#", "$", "%", "\\", "/", "`",
            "你好", "世界", "自然语言处理", "。", "，", "日本語", "カタカナ", "안녕하세요", "Здравствуй", "Γειά", "مرحبا",
            "नमस्ते", "สวัสดี", "\uD835\uDC00\uD835\uDC01", // 𝐀𝐁 (supplementary letters)
            "😀", "👍🏽", "👨‍👩‍👧‍👦", "🇯🇵", "❤️", "🦙", "\u200D", "\uFE0F", "\u200B",
            "e\u0301", "A\u030A", "\u0301", "\u0308", "\u0327", "\u0338", "\u0301\u0327", "é", "Å", "ﬁ", "ｆｕｌｌ",
            "\u0301\u0327\u0344\u0345\u0316".repeat(5), // two in a row make a run CombiningMarks reorders
            "\u0000", "\u0001", "\u0007", "\u007F", "\u009F", "\uFEFF", "\uFFFD", "\uFFFF",
            "\uD800", "\uDC00", "\uDBFF", "\uDFFF", "\uDC00\uD800", // lone and reversed surrogates
            "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<tool_call>", "<|fim_prefix|>",
            "<|im_", "<think", "|>", "</s>", "<s>", "<unk>", "[PAD151700]");

    private final SplittableRandom random;

    RandomText(long seed) {
        random = new SplittableRandom(seed);
    }

    String next() {
        int fragments = random.nextInt(24);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < fragments; i++) {
            switch (random.nextInt(10)) {
                case 0 -> text.appendCodePoint(randomCodePoint());
                case 1 -> text.append((char) random.nextInt(0x10000)); // any UTF-16 unit, surrogates included
                default -> text.append(FRAGMENTS.get(random.nextInt(FRAGMENTS.size())));
            }
        }
        return text.toString();
    }

    /** Any code point, weighted towards the planes text actually uses. */
    private int randomCodePoint() {
        return switch (random.nextInt(4)) {
            case 0 -> random.nextInt(0x80);
            case 1 -> random.nextInt(0x800);
            case 2 -> random.nextInt(0x10000);
            default -> random.nextInt(0x110000);
        };
    }
}
