/** The Qwen byte-level BPE tokenizer and its chat-template tokens. */
module dev.moe4j.tokenizer {
    requires com.fasterxml.jackson.databind;

    exports dev.moe4j.tokenizer;
}
