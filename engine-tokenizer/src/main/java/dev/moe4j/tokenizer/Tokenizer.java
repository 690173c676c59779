package dev.moe4j.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Qwen2/Qwen3 byte-level BPE tokenizer, giving the same ids as Hugging Face's {@code tokenizers} for Qwen's
 * {@code tokenizer.json}.
 *
 * <p>Encoding, in Hugging Face's order:
 * <ol>
 *   <li>unpaired surrogates become U+FFFD (a Java string may hold them, UTF-8 cannot; Hugging Face never sees them);
 *   <li>added tokens ({@code <|im_start|>}, {@code <think>}, …) are split out of the raw text, leftmost-longest,
 *       each becoming its own id — unless {@code parseSpecial} is false; {@link #encode(String, int[])} splits
 *       them out only outside its plain spans (a chat prompt's caller-supplied text);
 *   <li>every other segment is NFC-normalised, split by the {@link PreTokenizer Qwen2 pre-tokenizer}, and each
 *       piece's UTF-8 bytes are merged by {@link ByteLevelBpe BPE}.
 * </ol>
 * No BOS or EOS is added. So {@code decode(encode(s))} is {@code NFC(s)} with unpaired surrogates as U+FFFD
 * (NFC applied per segment between added tokens).
 *
 * <p>Immutable apart from an internal cache of piece encodings; safe to share between threads.
 */
public final class Tokenizer {
    private final Vocabulary vocab;
    private final ByteLevelBpe bpe;
    private final AddedTokenMatcher addedTokens;
    private final boolean nfc;
    private final String chatTemplate; // null if none
    private final String eosToken; // null if none

    Tokenizer(Vocabulary vocab, ByteLevelBpe bpe, boolean nfc, String chatTemplate, String eosToken) {
        this.vocab = vocab;
        this.bpe = bpe;
        this.addedTokens = new AddedTokenMatcher(vocab.addedTokens());
        this.nfc = nfc;
        this.chatTemplate = chatTemplate;
        this.eosToken = eosToken;
    }

    /**
     * Loads a Hugging Face {@code tokenizer.json}, and the {@code tokenizer_config.json} beside it if there is one
     * (its added tokens, chat template and EOS token).
     *
     * @throws TokenizerException if the files describe a tokenizer this class does not implement (another
     *     pre-tokenizer, normaliser or model type; added tokens with lstrip/rstrip/single_word/normalized set)
     */
    public static Tokenizer fromHuggingFace(Path tokenizerJson) throws IOException {
        Path config = tokenizerJson.resolveSibling("tokenizer_config.json");
        try (InputStream json = Files.newInputStream(tokenizerJson);
             InputStream configJson = Files.exists(config) ? Files.newInputStream(config) : null) {
            return fromHuggingFace(json, configJson);
        }
    }

    /**
     * Loads a Hugging Face {@code tokenizer.json} and optional {@code tokenizer_config.json} (may be null). Does not
     * close the streams.
     */
    public static Tokenizer fromHuggingFace(InputStream tokenizerJson, InputStream tokenizerConfigJson)
            throws IOException {
        return HuggingFaceLoader.load(tokenizerJson, tokenizerConfigJson);
    }

    /**
     * Builds a Qwen2-style tokenizer (NFC, Qwen2 pre-tokenizer, byte-level BPE, merges applied) from plain arrays,
     * e.g. GGUF's {@code tokenizer.ggml.tokens} and {@code tokenizer.ggml.merges}.
     *
     * @param tokens token strings by id: byte-level strings for BPE tokens, raw text for added tokens. A
     *     {@code null} entry leaves that id undefined (decoding it throws); GGUF's {@code [PAD…]} rows may be passed
     *     as they are (they are then ordinary tokens that BPE never produces) or as null
     * @param merges merges in rank order, each two tokens separated by one space ({@code "Ġ t"})
     * @param addedTokens tokens matched whole in the raw text (GGUF CONTROL → special, USER_DEFINED → not);
     *     their ids must hold the same string in {@code tokens}, or null
     */
    public static Tokenizer fromVocabulary(String[] tokens, List<String> merges, Collection<AddedToken> addedTokens) {
        List<String[]> pairs = new ArrayList<>(merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            String merge = merges.get(rank);
            int space = merge.indexOf(' ');
            if (space <= 0 || space == merge.length() - 1 || merge.indexOf(' ', space + 1) >= 0) {
                throw new TokenizerException("merge " + rank + " is not two tokens separated by one space: '"
                        + merge + "'");
            }
            pairs.add(new String[] {merge.substring(0, space), merge.substring(space + 1)});
        }
        Vocabulary vocab = new Vocabulary(tokens, addedTokens);
        return new Tokenizer(vocab, new ByteLevelBpe(vocab, pairs, false), true, null, null);
    }

    /** This tokenizer with the given Jinja chat template (e.g. GGUF's {@code tokenizer.chat_template}). */
    public Tokenizer withChatTemplate(String template) {
        return new Tokenizer(vocab, bpe, nfc, template, eosToken);
    }

    /** Encodes with added and special tokens recognised in the text, as Hugging Face does by default. */
    public int[] encode(String text) {
        return encode(text, true);
    }

    /**
     * Encodes text to token ids, exactly as Hugging Face's tokenizer for Qwen3 does. Unpaired surrogates (which
     * only a Java string can hold) are encoded as U+FFFD, so they decode as U+FFFD, not as {@code '?'}.
     *
     * @param parseSpecial true: added tokens in the text ({@code <|im_start|>}, {@code <think>}) become their ids.
     *     False: all added tokens, special or not, are ordinary text — use it for untrusted input, so a user
     *     cannot inject control tokens. (Stricter than Hugging Face's {@code split_special_tokens}, which still
     *     matches non-special added tokens such as {@code <think>}.)
     * @throws NullPointerException if {@code text} is null
     */
    public int[] encode(String text, boolean parseSpecial) {
        Objects.requireNonNull(text, "text");
        String clean = Utf8.replaceLoneSurrogates(text);
        IntList ids = new IntList(clean.length() / 3);
        ByteLevelBpe.Work work = new ByteLevelBpe.Work();
        int segmentStart = 0;
        if (parseSpecial && !addedTokens.isEmpty()) {
            int i = 0;
            while (i < clean.length()) {
                AddedToken match = addedTokens.matchAt(clean, i);
                if (match == null) {
                    i++;
                    continue;
                }
                encodeSegment(clean, segmentStart, i, ids, work);
                ids.add(match.id());
                i += match.content().length();
                segmentStart = i;
            }
        }
        encodeSegment(clean, segmentStart, clean.length(), ids, work);
        return ids.toArray();
    }

    /**
     * Encodes text in which only some stretches may hold added tokens: a chat prompt whose template markup
     * ({@code <|im_start|>user\n}) is recognised while the caller's content inside it stays text. Inside a plain span
     * every character is ordinary text, and an added token that would reach into one is not recognised; the text
     * around the spans is encoded as {@code encode(text, true)} does. Matching and segmentation are those of
     * {@link #encode(String, boolean)} over the whole text, so when no plain span holds the text of an added token
     * (or a piece of one next to markup) the ids equal {@code encode(text, true)}, pre-tokenizer boundaries
     * included; otherwise the added-token text in a span is BPE-merged with whatever surrounds it, as plain text.
     *
     * @param text       the text to encode
     * @param plainSpans start and end character offsets into {@code text} ({@code [start, end)}), flattened as
     *     {@code {start0, end0, start1, end1, …}}, in increasing order and not overlapping; empty spans allowed
     * @return the token ids
     * @throws NullPointerException if {@code text} or {@code plainSpans} is null
     * @throws IllegalArgumentException if the spans are not such pairs within the text, in order
     */
    public int[] encode(String text, int[] plainSpans) {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(plainSpans, "plainSpans");
        checkSpans(plainSpans, text.length());
        String clean = Utf8.replaceLoneSurrogates(text); // one char for one, so the offsets still hold
        IntList ids = new IntList(clean.length() / 3);
        ByteLevelBpe.Work work = new ByteLevelBpe.Work();
        int segmentStart = 0;
        int span = 0; // the first plain span that does not end at or before i
        int i = 0;
        while (i < clean.length()) {
            while (span < plainSpans.length && plainSpans[span + 1] <= i) {
                span += 2;
            }
            int nextPlainStart = clean.length();
            if (span < plainSpans.length) {
                if (plainSpans[span] <= i) {
                    i = plainSpans[span + 1]; // inside a plain span: text only
                    continue;
                }
                nextPlainStart = plainSpans[span];
            }
            AddedToken match = addedTokens.isEmpty() ? null : addedTokens.matchAt(clean, i, nextPlainStart);
            if (match == null) {
                i++;
                continue;
            }
            encodeSegment(clean, segmentStart, i, ids, work);
            ids.add(match.id());
            i += match.content().length();
            segmentStart = i;
        }
        encodeSegment(clean, segmentStart, clean.length(), ids, work);
        return ids.toArray();
    }

    private static void checkSpans(int[] spans, int length) {
        if (spans.length % 2 != 0) {
            throw new IllegalArgumentException("plain spans come in start/end pairs, got " + spans.length + " offsets");
        }
        int previousEnd = 0;
        for (int k = 0; k < spans.length; k += 2) {
            if (spans[k] < previousEnd || spans[k + 1] < spans[k] || spans[k + 1] > length) {
                throw new IllegalArgumentException("plain span " + k / 2 + " [" + spans[k] + ", " + spans[k + 1]
                        + ") is out of order or outside the text of length " + length);
            }
            previousEnd = spans[k + 1];
        }
    }

    /** Normalise, pre-tokenize and BPE-encode {@code text[from, to)}, a stretch without added tokens. */
    private void encodeSegment(String text, int from, int to, IntList ids, ByteLevelBpe.Work work) {
        if (from == to) {
            return;
        }
        String segment = from == 0 && to == text.length() ? text : text.substring(from, to);
        if (nfc) {
            segment = nfc(segment);
        }
        int length = segment.length();
        for (int start = 0; start < length; ) {
            int end = PreTokenizer.pieceEnd(segment, start, length);
            bpe.encode(segment, start, end, ids, work);
            start = end;
        }
    }

    private static String nfc(String text) {
        for (int i = 0; i < text.length(); i++) {
            // Below U+0300 every character is NFC-stable and starts no composition, so most text skips the check.
            if (text.charAt(i) >= 0x300) {
                String ordered = CombiningMarks.orderLongRuns(text); // else the JDK's NFC can be quadratic
                return Normalizer.isNormalized(ordered, Normalizer.Form.NFC)
                        ? ordered
                        : Normalizer.normalize(ordered, Normalizer.Form.NFC);
            }
        }
        return text;
    }

    /** Decodes ids to text, special tokens included. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Decodes ids to text: the tokens' bytes, concatenated, as UTF-8; invalid or incomplete sequences become
     * U+FFFD (Hugging Face's {@code errors="replace"}).
     *
     * @param skipSpecialTokens drop special added tokens ({@code <|im_end|>}); non-special ones ({@code <think>})
     *     stay, as in Hugging Face
     * @throws NullPointerException if {@code ids} is null
     * @throws TokenizerException naming the first id that is not in the vocabulary
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        Objects.requireNonNull(ids, "ids");
        int total = 0;
        for (int id : ids) {
            vocab.checkDefined(id);
            if (!(skipSpecialTokens && vocab.isSpecial(id))) {
                total += vocab.bytesEnd(id) - vocab.bytesStart(id);
            }
        }
        byte[] bytes = new byte[total];
        int length = 0;
        for (int id : ids) {
            if (!(skipSpecialTokens && vocab.isSpecial(id))) {
                int start = vocab.bytesStart(id);
                int count = vocab.bytesEnd(id) - start;
                System.arraycopy(vocab.tokenBytes(), start, bytes, length, count);
                length += count;
            }
        }
        StringBuilder text = new StringBuilder(length);
        Utf8.decode(bytes, 0, length, true, text);
        return text.toString();
    }

    /** A streaming decoder for one sequence. */
    public IncrementalDecoder newDecoder(boolean skipSpecialTokens) {
        return new IncrementalDecoder(vocab, skipSpecialTokens);
    }

    /** Number of ids, including undefined ones (so GGUF padding rows count). */
    public int vocabSize() {
        return vocab.size();
    }

    /** The token string of an id: byte-level text ({@code "Ġhello"}) for BPE tokens, raw text for added tokens. */
    public String token(int id) {
        return vocab.token(id);
    }

    /** The id of an added token or of a BPE token given as its byte-level string. */
    public OptionalInt tokenId(String token) {
        for (AddedToken added : vocab.addedTokens()) {
            if (added.content().equals(token)) {
                return OptionalInt.of(added.id());
            }
        }
        int id = vocab.modelId(token);
        return id >= 0 ? OptionalInt.of(id) : OptionalInt.empty();
    }

    /** Whether the id is an added token marked special (skipped by {@code decode(ids, true)}). */
    public boolean isSpecial(int id) {
        return vocab.isSpecial(id);
    }

    /** Whether the id is an added token, special or not. */
    public boolean isAddedToken(int id) {
        return vocab.isAdded(id);
    }

    /** The added tokens, by id. */
    public List<AddedToken> addedTokens() {
        return vocab.addedTokens();
    }

    /** The Jinja chat template from tokenizer_config.json or {@link #withChatTemplate}. */
    public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    /** The {@code eos_token} of tokenizer_config.json ({@code <|im_end|>} for Qwen3 instruct models). */
    public Optional<String> eosToken() {
        return Optional.ofNullable(eosToken);
    }
}
