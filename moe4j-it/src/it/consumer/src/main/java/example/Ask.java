package example;

import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.Engine;
import java.nio.file.Path;

/** The README's example as a user writes it, run on the module path; exits 1 if moe4j is not a named module there. */
public final class Ask {
    private Ask() {}

    public static void main(String[] args) {
        String module = Engine.class.getModule().getName();
        if (!"dev.moe4j.core".equals(module) || !Ask.class.getModule().isNamed()) {
            System.err.println("not on the module path: moe4j's module is " + module);
            System.exit(1);
        }
        try (Engine engine = Engine.load(Path.of(args[0]))) {
            ChatResponse answer = engine.chat(ChatRequest.of("Why is the sky blue?"));
            System.out.println(answer.content());
            if (answer.usage().completionTokens() < 1) {
                System.err.println("no answer: " + answer);
                System.exit(1);
            }
        }
        System.out.println("README example ran in module " + Ask.class.getModule().getName() + " with " + module);
    }
}
