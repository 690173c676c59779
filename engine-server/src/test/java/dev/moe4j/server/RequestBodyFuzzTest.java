package dev.moe4j.server;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;

/**
 * Arbitrary bytes as the body of {@code POST /v1/chat/completions} and {@code POST /v1/completions}, parsed as the
 * server parses them (no model needed: parsing ends in the engine's request objects). A body the server cannot honour
 * is an {@link ApiException} with a 4xx status and a message; anything else thrown would reach the client as a 500.
 * Corpus: {@code RequestBodyFuzzTestInputs/}.
 */
class RequestBodyFuzzTest {
    private static final String MODEL = "moe4j-test";

    @FuzzTest(maxDuration = "2m")
    void chatBody(byte[] bytes) {
        try {
            JsonNode body = ApiHandler.parseBody(bytes);
            OpenAiRequests.Chat chat = OpenAiRequests.chat(body, MODEL,
                    mode -> mode == Thinking.OFF ? SamplingParams.NON_THINKING : SamplingParams.THINKING);
            assertNotNull(chat.request());
            assertTrue(!chat.request().messages().isEmpty());
        } catch (ApiException e) {
            assertRefusal(e);
        }
    }

    @FuzzTest(maxDuration = "2m")
    void completionBody(byte[] bytes) {
        try {
            OpenAiRequests.Completion completion = OpenAiRequests.completion(ApiHandler.parseBody(bytes), MODEL);
            assertTrue(!completion.request().prompt().isEmpty());
        } catch (ApiException e) {
            assertRefusal(e);
        }
    }

    private static void assertRefusal(ApiException e) {
        assertTrue(e.status == 400 || e.status == 404, () -> e.status + " " + e.getMessage());
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "a refusal says why");
    }
}
