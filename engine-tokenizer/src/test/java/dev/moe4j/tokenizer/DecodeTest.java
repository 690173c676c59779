package dev.moe4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DecodeTest {
    private final Tokenizer tokenizer = Qwen3Fixtures.tokenizer();

    private int byteToken(int b) {
        return tokenizer.tokenId(String.valueOf(ByteLevel.toChar(b))).orElseThrow();
    }

    @Test
    void unknownIdsAreNamed() {
        TokenizerException tooBig = assertThrows(TokenizerException.class,
                () -> tokenizer.decode(new int[] {9707, 151669}));
        assertTrue(tooBig.getMessage().contains("151669") && tooBig.getMessage().contains("size 151669"),
                tooBig.getMessage());
        TokenizerException negative = assertThrows(TokenizerException.class, () -> tokenizer.decode(new int[] {-1}));
        assertTrue(negative.getMessage().contains("-1"), negative.getMessage());
        IncrementalDecoder decoder = tokenizer.newDecoder(false);
        assertThrows(TokenizerException.class, () -> decoder.next(200_000));
        assertEquals("Hello", decoder.next(9707), "the decoder still works after a rejected id");
    }

    @Test
    void invalidUtf8BecomesReplacementCharacters() {
        int e4 = byteToken(0xE4);
        int b8 = byteToken(0xB8);
        assertEquals("\uFFFD", tokenizer.decode(new int[] {e4, b8}), "incomplete character at the end");
        assertEquals("\uFFFDa", tokenizer.decode(new int[] {e4, b8, 64}));
        assertEquals("\uFFFD", tokenizer.decode(new int[] {byteToken(0xFF)}));
        assertEquals("中", tokenizer.decode(new int[] {e4, b8, byteToken(0xAD)}));
    }

    @Test
    void streamingHoldsBackIncompleteCharacters() {
        int[] ids = tokenizer.encode("👨‍👩‍👧 ok");
        List<String> chunks = new ArrayList<>();
        IncrementalDecoder decoder = tokenizer.newDecoder(false);
        for (int id : ids) {
            chunks.add(decoder.next(id));
        }
        chunks.add(decoder.flush());
        assertTrue(chunks.contains(""), "some token ends inside a character: " + chunks);
        assertEquals("👨‍👩‍👧 ok", String.join("", chunks));

        IncrementalDecoder truncated = tokenizer.newDecoder(false);
        assertEquals("", truncated.next(byteToken(0xE4)));
        assertEquals("", truncated.next(byteToken(0xB8)));
        assertEquals("\uFFFD", truncated.flush(), "an incomplete character at the end becomes U+FFFD");
        assertEquals("", truncated.flush(), "flush resets");
        assertEquals("\uFFFDa", truncatedThen(64), "a byte that cannot continue the character ends it at once");
    }

    private String truncatedThen(int id) {
        IncrementalDecoder decoder = tokenizer.newDecoder(false);
        decoder.next(byteToken(0xE4));
        return decoder.next(id);
    }

    @Test
    void streamingSkipsSpecialTokens() {
        int[] ids = tokenizer.encode("<|im_start|>assistant\nhi<|im_end|>");
        IncrementalDecoder decoder = tokenizer.newDecoder(true);
        StringBuilder text = new StringBuilder();
        for (int id : ids) {
            text.append(decoder.next(id));
        }
        assertEquals("assistant\nhi", text.append(decoder.flush()).toString());
    }

    @Test
    void emptyInputs() {
        assertArrayEquals(new int[0], tokenizer.encode(""));
        assertEquals("", tokenizer.decode(new int[0]));
        assertEquals("", tokenizer.newDecoder(true).flush());
    }
}
