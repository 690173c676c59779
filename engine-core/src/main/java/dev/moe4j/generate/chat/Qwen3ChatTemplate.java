package dev.moe4j.generate.chat;

import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.ChatMessage.Role;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.ToolSpec;
import java.util.List;

/**
 * The Qwen3 family's chat templates (spec §5), ported by hand from their Jinja text; the texts themselves are the
 * resources next to this class. All share one skeleton: a system turn that lists the tools, ChatML turns, tool
 * calls as JSON in {@code <tool_call>} tags, runs of tool results as one user turn of {@code <tool_response>}s.
 * They differ in two places, both decided by the {@link ThinkingMode}:
 * <ul>
 *   <li>assistant history: HYBRID and ALWAYS split reasoning from content and keep it only for the turns after
 *       the last real user query; NEVER (Instruct-2507) writes the content as given;</li>
 *   <li>the generation prompt: HYBRID honours {@code enable_thinking}, ALWAYS pre-fills {@code <think>\n}, NEVER
 *       opens the turn only.</li>
 * </ul>
 * The original hybrid template (A) and the current one (C) render the same text for every conversation both can
 * render. A fails on a message without string content (a Python TypeError), where C renders it as {@code ''}; both
 * names follow C there.
 *
 * <p>Comments quote the Jinja line each step reproduces. With {@code trim_blocks} and {@code lstrip_blocks} and a
 * {@code -} on every tag, the template text contributes no whitespace of its own: the output is exactly the
 * concatenation of the {@code {{ }}} expressions.
 */
record Qwen3ChatTemplate(String name, ThinkingMode thinkingMode) implements ChatTemplate {

    private static final String TOOLS_HEADER = "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
    private static final String TOOLS_FOOTER = "\n</tools>\n\nFor each function call, return a json object with function name "
            + "and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
            + "{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n";

    @Override
    public RenderedPrompt renderPrompt(List<ChatMessage> messages, List<ToolSpec> tools, Boolean enableThinking,
            boolean addGenerationPrompt) {
        if (messages == null || messages.isEmpty()) {
            throw new IllegalArgumentException("cannot render an empty conversation: the template reads messages[0]");
        }
        RenderedPrompt.Builder out = new RenderedPrompt.Builder();
        systemTurn(out, messages.getFirst(), tools);
        int lastQuery = lastQueryIndex(messages);
        int last = messages.size() - 1;
        for (int i = 0; i <= last; i++) {
            ChatMessage message = messages.get(i);
            switch (message.role()) {
                case USER -> turn(out, message);
                // the first system message went into the system turn above
                case SYSTEM -> {
                    if (i > 0) {
                        turn(out, message);
                    }
                }
                case ASSISTANT -> assistantTurn(out, message, i > lastQuery, i == last);
                case TOOL -> {
                    // {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %} <|im_start|>user
                    if (i == 0 || messages.get(i - 1).role() != Role.TOOL) {
                        out.markup("<|im_start|>user");
                    }
                    out.markup("\n<tool_response>\n").content(content(message)).markup("\n</tool_response>");
                    if (i == last || messages.get(i + 1).role() != Role.TOOL) {
                        out.markup("<|im_end|>\n");
                    }
                }
            }
        }
        if (addGenerationPrompt) {
            out.markup("<|im_start|>assistant\n");
            switch (thinkingMode) {
                // {%- if enable_thinking is defined and enable_thinking is false %}: the hard switch, an empty think block
                case HYBRID -> {
                    if (Boolean.FALSE.equals(enableThinking)) {
                        out.markup("<think>\n\n</think>\n\n");
                    }
                }
                case ALWAYS -> out.markup("<think>\n");
                case NEVER -> { }
            }
        }
        return out.build();
    }

    /** {@code {%- if tools %}}: the system prompt, if any, then the tool list; else the system prompt alone. */
    private static void systemTurn(RenderedPrompt.Builder out, ChatMessage first, List<ToolSpec> tools) {
        boolean hasSystem = first.role() == Role.SYSTEM;
        if (tools != null && !tools.isEmpty()) {
            out.markup("<|im_start|>system\n");
            if (hasSystem) {
                out.content(content(first)).markup("\n\n");
            }
            out.markup(TOOLS_HEADER);
            for (ToolSpec tool : tools) {
                out.markup('\n').content(PythonJson.dumps(tool.json()));
            }
            out.markup(TOOLS_FOOTER);
        } else if (hasSystem) {
            out.markup("<|im_start|>system\n").content(content(first)).markup("<|im_end|>\n");
        }
    }

    /**
     * {@code ns.last_query_index}: the last user message that is a real query, not tool results the caller wrapped
     * in {@code <tool_response>} tags; the conversation's last index when there is none. Assistant turns after it
     * form the current (multi-step) answer and keep their reasoning.
     */
    private static int lastQueryIndex(List<ChatMessage> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            ChatMessage message = messages.get(i);
            String text = message.content();
            // message.content is string and not(content.startswith('<tool_response>') and content.endswith('</tool_response>'))
            if (message.role() == Role.USER && text != null
                    && !(text.startsWith("<tool_response>") && text.endsWith("</tool_response>"))) {
                return i;
            }
        }
        return messages.size() - 1;
    }

    private static void turn(RenderedPrompt.Builder out, ChatMessage message) {
        out.markup("<|im_start|>").markup(message.role().wireName()).markup('\n').content(content(message))
                .markup("<|im_end|>\n");
    }

    private void assistantTurn(RenderedPrompt.Builder out, ChatMessage message, boolean afterLastQuery, boolean isLast) {
        String content = content(message);
        out.markup("<|im_start|>assistant\n");
        if (thinkingMode == ThinkingMode.NEVER) {
            // Instruct-2507 knows no reasoning: the content as given
            out.content(content);
        } else {
            String reasoning = "";
            if (message.reasoningContent() != null) {
                reasoning = message.reasoningContent();
            } else if (content.contains("</think>")) {
                // content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n')
                reasoning = stripLeadingNewlines(after(stripTrailingNewlines(before(content, "</think>")), "<think>"));
                // content.split('</think>')[-1].lstrip('\n')
                content = stripLeadingNewlines(content.substring(content.lastIndexOf("</think>") + "</think>".length()));
            }
            // {%- if loop.index0 > ns.last_query_index %}{%- if loop.last or (not loop.last and reasoning_content) %}
            if (afterLastQuery && (isLast || !reasoning.isEmpty())) {
                out.markup("<think>\n").content(stripTrailingNewlines(stripLeadingNewlines(reasoning)))
                        .markup("\n</think>\n\n").content(stripLeadingNewlines(content));
            } else {
                out.content(content);
            }
        }
        List<ToolCall> calls = message.toolCalls();
        for (int c = 0; c < calls.size(); c++) {
            // {%- if (loop.first and content) or (not loop.first) %}
            if (c > 0 || !content.isEmpty()) {
                out.markup('\n');
            }
            ToolCall call = calls.get(c);
            out.markup("<tool_call>\n{\"name\": \"").content(call.name()).markup("\", \"arguments\": ")
                    .content(call.hasRawArguments() ? call.arguments().textValue() : PythonJson.dumps(call.arguments()))
                    .markup("}\n</tool_call>");
        }
        out.markup("<|im_end|>\n");
    }

    /** {@code message.content if message.content is string else ''} */
    private static String content(ChatMessage message) {
        return message.content() != null ? message.content() : "";
    }

    /** Python's {@code s.split(separator)[0]}. */
    private static String before(String s, String separator) {
        int at = s.indexOf(separator);
        return at < 0 ? s : s.substring(0, at);
    }

    /** Python's {@code s.split(separator)[-1]}. */
    private static String after(String s, String separator) {
        int at = s.lastIndexOf(separator);
        return at < 0 ? s : s.substring(at + separator.length());
    }

    /** Python's {@code s.lstrip('\n')}. */
    private static String stripLeadingNewlines(String s) {
        int start = 0;
        while (start < s.length() && s.charAt(start) == '\n') {
            start++;
        }
        return s.substring(start);
    }

    /** Python's {@code s.rstrip('\n')}. */
    private static String stripTrailingNewlines(String s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == '\n') {
            end--;
        }
        return s.substring(0, end);
    }
}
