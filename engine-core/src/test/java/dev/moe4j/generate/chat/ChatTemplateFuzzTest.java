package dev.moe4j.generate.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.moe4j.api.ChatMessage;
import java.nio.charset.StandardCharsets;

/**
 * Arbitrary bytes as a render request ({@code {"messages": [...], "tools": [...], "enable_thinking": ...}}: messages
 * with any roles, content, reasoning content and tool calls) rendered by every native template. A request that is
 * not one fails with {@link IllegalArgumentException} naming the field; one that is renders, the same way twice, with
 * every user message's text verbatim in its turn. Corpus: {@code ChatTemplateFuzzTestInputs/}.
 */
class ChatTemplateFuzzTest {

    @FuzzTest(maxDuration = "2m")
    void render(byte[] bytes) {
        RenderRequest request;
        try {
            request = RenderRequest.parse(new String(bytes, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            return;
        }
        for (String name : ChatTemplates.names()) {
            ChatTemplate template = ChatTemplates.byName(name);
            String prompt = request.render(template);
            assertEquals(prompt, request.render(template), name + " renders deterministically");
            for (ChatMessage m : request.messages()) {
                if (m.role() == ChatMessage.Role.USER) {
                    String turn = "<|im_start|>user\n" + (m.content() == null ? "" : m.content()) + "<|im_end|>\n";
                    assertTrue(prompt.contains(turn), () -> name + " lacks the user turn " + turn);
                }
            }
        }
    }
}
