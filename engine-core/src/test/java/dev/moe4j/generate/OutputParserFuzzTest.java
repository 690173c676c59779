package dev.moe4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufTokenizer;
import dev.moe4j.testutil.Fixtures;
import dev.moe4j.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Arbitrary model output (text with {@code <think>}, {@code </think>}, {@code <tool_call>}, {@code </tool_call>}
 * anywhere, tokenized as a Qwen3 model would emit it) through the {@link OutputParser}. Its output re-joins to its
 * input: the reasoning is the text between the think tags less the newlines around it, the content the text outside
 * them less its leading newlines, and each tool call block becomes one tool call or one malformed call; what the
 * listener is told adds up to the same. The first input byte's bit 0 starts in the think block (Thinking-2507).
 * Corpus: {@code OutputParserFuzzTestInputs/}.
 */
class OutputParserFuzzTest {
    private static final Tokenizer TOKENIZER = tokenizer();
    private static final OutputParser.Tags TAGS = new OutputParser.Tags(id("<think>"), id("</think>"),
            id("<tool_call>"), id("</tool_call>"));

    @FuzzTest(maxDuration = "2m")
    void parse(byte[] bytes) {
        if (bytes.length == 0) {
            return;
        }
        boolean startInReasoning = (bytes[0] & 1) != 0;
        int[] ids = TOKENIZER.encode(new String(bytes, 1, bytes.length - 1, StandardCharsets.UTF_8), true);

        OutputParserTest.Recorder recorder = new OutputParserTest.Recorder();
        OutputParser parser = new OutputParser(TAGS, TOKENIZER.newDecoder(true), recorder, List.of(), startInReasoning);
        for (int id : ids) {
            parser.accept(id);
        }
        parser.finish();

        Expected expected = split(ids, startInReasoning);
        assertEquals(expected.reasoning, parser.reasoning());
        assertEquals(expected.content, parser.content());
        assertEquals(expected.toolBlocks, parser.toolCalls().size() + parser.malformedToolCalls().size());
        assertEquals(parser.reasoning(), recorder.reasoning.toString());
        assertEquals(parser.content(), recorder.content.toString());
        assertEquals(parser.toolCalls(), recorder.calls);
    }

    private record Expected(String reasoning, String content, int toolBlocks) {}

    /** The split the parser documents, computed on whole stretches of ids between the tags. */
    private static Expected split(int[] ids, boolean startInReasoning) {
        StringBuilder reasoning = new StringBuilder();
        StringBuilder content = new StringBuilder();
        int toolBlocks = 0;
        OutputParser.Channel channel = startInReasoning ? OutputParser.Channel.REASONING : OutputParser.Channel.PREAMBLE;
        List<Integer> run = new ArrayList<>();
        for (int i = 0; i <= ids.length; i++) {
            int id = i < ids.length ? ids[i] : -1;
            if (i < ids.length && channel == OutputParser.Channel.PREAMBLE) {
                // the first token decides: the think tag opens the reasoning, anything else is already content
                if (id == TAGS.thinkStart()) {
                    channel = OutputParser.Channel.REASONING;
                    continue;
                }
                channel = OutputParser.Channel.CONTENT;
            }
            OutputParser.Channel next = channel;
            boolean tag = true;
            if (i == ids.length) {
                next = null;
            } else if (channel == OutputParser.Channel.REASONING && id == TAGS.thinkEnd()) {
                next = OutputParser.Channel.CONTENT;
            } else if (channel == OutputParser.Channel.CONTENT && id == TAGS.toolCallStart()) {
                next = OutputParser.Channel.TOOL_CALL;
                toolBlocks++;
            } else if (channel == OutputParser.Channel.TOOL_CALL && id == TAGS.toolCallEnd()) {
                next = OutputParser.Channel.CONTENT;
            } else {
                tag = false;
            }
            if (next != channel) {
                String text = TOKENIZER.decode(run.stream().mapToInt(Integer::intValue).toArray(), true);
                (channel == OutputParser.Channel.REASONING ? reasoning
                        : channel == OutputParser.Channel.TOOL_CALL ? new StringBuilder() : content).append(text);
                run.clear();
                channel = next;
            }
            if (!tag && i < ids.length) {
                run.add(id);
            }
        }
        return new Expected(strip(reasoning.toString(), true), strip(content.toString(), false), toolBlocks);
    }

    /** Newlines off the start, and off the end too when {@code bothEnds}. */
    private static String strip(String s, boolean bothEnds) {
        int start = 0;
        int end = s.length();
        while (start < end && s.charAt(start) == '\n') {
            start++;
        }
        while (bothEnds && end > start && s.charAt(end - 1) == '\n') {
            end--;
        }
        return s.substring(start, end);
    }

    private static Tokenizer tokenizer() {
        try (GgufFile f = GgufFile.open(Fixtures.model("qwen3-dense-tiny.f32.gguf"))) {
            return GgufTokenizer.fromMetadata(f);
        }
    }

    private static int id(String token) {
        return TOKENIZER.tokenId(token).orElseThrow();
    }
}
