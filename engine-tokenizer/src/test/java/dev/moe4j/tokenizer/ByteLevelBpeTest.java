package dev.moe4j.tokenizer;

import static dev.moe4j.tokenizer.TinyVocabularies.tokens;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** BPE and added-token semantics on hand-made vocabularies built through the plain-array factory. */
class ByteLevelBpeTest {
    private static final int A = 'a';
    private static final int B = 'b';
    private static final int C = 'c';
    private static final int D = 'd';

    @Test
    void mergesGoByRankNotByPosition() {
        // ids 256 "ab", 257 "bc", 258 "abc" (= a + bc)
        Tokenizer tokenizer = Tokenizer.fromVocabulary(tokens("ab", "bc", "abc"), List.of("b c", "a b", "a bc"),
                List.of());
        assertArrayEquals(new int[] {258}, tokenizer.encode("abc"), "b+c (rank 0) before a+b (rank 1)");
        assertArrayEquals(new int[] {256, 256}, tokenizer.encode("abab"));

        Tokenizer otherOrder = Tokenizer.fromVocabulary(tokens("ab", "bc", "abc"), List.of("a b", "b c", "a bc"),
                List.of());
        assertArrayEquals(new int[] {256, C}, otherOrder.encode("abc"), "a+b first leaves c: no merge ab+c");
    }

    @Test
    void equalRanksMergeLeftmostFirst() {
        Tokenizer tokenizer = Tokenizer.fromVocabulary(tokens("aa"), List.of("a a"), List.of());
        assertArrayEquals(new int[] {256, A}, tokenizer.encode("aaa"));
        assertArrayEquals(new int[] {256, 256}, tokenizer.encode("aaaa"));
    }

    @Test
    void piecesAreEncodedSeparately() {
        Tokenizer tokenizer = Tokenizer.fromVocabulary(tokens("Ġb", "ab"), List.of("Ġ b", "a b"), List.of());
        assertArrayEquals(new int[] {A, 256}, tokenizer.encode("a b"), "\"a\", \" b\": never a merge across pieces");
    }

    @Test
    void addedTokensMatchLeftmostThenLongest() {
        List<AddedToken> added = List.of(new AddedToken(256, "ab", false), new AddedToken(257, "abc", true),
                new AddedToken(258, "bcd", false));
        Tokenizer tokenizer = Tokenizer.fromVocabulary(tokens(), List.of(), added);
        assertArrayEquals(new int[] {257, D}, tokenizer.encode("abcd"));
        assertArrayEquals(new int[] {'x', 258}, tokenizer.encode("xbcd"));
        assertArrayEquals(new int[] {256, 'x'}, tokenizer.encode("abx"));
        assertArrayEquals(new int[] {A, B, C, D}, tokenizer.encode("abcd", false));
        assertEquals("d", tokenizer.decode(new int[] {257, D}, true));
        assertEquals("abcd", tokenizer.decode(new int[] {257, D}, false));
    }

    @Test
    void undefinedIdsAreRejectedByName() {
        String[] tokens = tokens("x", "y");
        tokens[256] = null; // e.g. a padding row the caller chose not to name
        Tokenizer tokenizer = Tokenizer.fromVocabulary(tokens, List.of(), List.of());
        assertEquals(258, tokenizer.vocabSize());
        TokenizerException e = assertThrows(TokenizerException.class, () -> tokenizer.decode(new int[] {256}));
        assertTrue(e.getMessage().contains("256") && e.getMessage().contains("258"), e.getMessage());
        assertEquals("y", tokenizer.decode(new int[] {257}));
    }

    @Test
    void brokenVocabulariesAreRefused() {
        assertThrows(TokenizerException.class, () -> Tokenizer.fromVocabulary(tokens(), List.of("a b"), List.of()),
                "merge result missing");
        assertThrows(TokenizerException.class, () -> Tokenizer.fromVocabulary(tokens("ab"), List.of("ab"), List.of()),
                "merge without a space");
        assertThrows(TokenizerException.class,
                () -> Tokenizer.fromVocabulary(tokens("ab"), List.of("a b c"), List.of()));
        assertThrows(TokenizerException.class,
                () -> Tokenizer.fromVocabulary(new String[] {"a", "b"}, List.of(), List.of()), "byte tokens missing");
        assertThrows(TokenizerException.class, () -> Tokenizer.fromVocabulary(tokens("x"), List.of(),
                List.of(new AddedToken(256, "<y>", true))), "added token disagrees with the token array");
    }

    @Test
    void addedTokensMayExtendTheTokenArray() {
        Tokenizer tokenizer = Tokenizer.fromVocabulary(tokens(), List.of(),
                List.of(new AddedToken(300, "<|end|>", true)));
        assertEquals(301, tokenizer.vocabSize());
        assertArrayEquals(new int[] {A, 300}, tokenizer.encode("a<|end|>"));
    }
}
