package dev.moe4j.bench.soak;

import dev.moe4j.api.ChatResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Where two responses to the same seeded request differ: the soak's answer against the one run alone. */
public final class ResponseDiff {
    private ResponseDiff() {}

    /**
     * Every component that differs, named with both values; empty when the responses are equal in content,
     * reasoning, tool calls (parsed and malformed), usage, finish reason and the thinking budget's flag.
     *
     * @param alone    the response of the request run alone
     * @param batched  the response of the same request under load
     * @return one line per differing component
     */
    public static List<String> differences(ChatResponse alone, ChatResponse batched) {
        List<String> out = new ArrayList<>();
        compare(out, "content", alone.content(), batched.content());
        compare(out, "reasoning", alone.reasoning(), batched.reasoning());
        compare(out, "toolCalls", alone.toolCalls(), batched.toolCalls());
        compare(out, "malformedToolCalls", alone.malformedToolCalls(), batched.malformedToolCalls());
        compare(out, "usage", alone.usage(), batched.usage());
        compare(out, "finishReason", alone.finishReason(), batched.finishReason());
        compare(out, "thinkingBudgetExhausted", alone.thinkingBudgetExhausted(), batched.thinkingBudgetExhausted());
        return out;
    }

    private static void compare(List<String> out, String name, Object alone, Object batched) {
        if (!Objects.equals(alone, batched)) {
            out.add(name + ": alone " + quote(alone) + ", under load " + quote(batched));
        }
    }

    /** A value for a report line: strings quoted and cut at 80 characters. */
    private static String quote(Object value) {
        if (!(value instanceof String s)) {
            return String.valueOf(value);
        }
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return '"' + cut.replace("\n", "\\n") + '"';
    }
}
