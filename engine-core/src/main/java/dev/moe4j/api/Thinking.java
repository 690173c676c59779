package dev.moe4j.api;

/** Whether a hybrid-thinking model should think for a request. */
public enum Thinking {
    /** Think before answering ({@code enable_thinking = true}). */
    ON,
    /** Answer directly: the template pre-fills an empty think block ({@code enable_thinking = false}). */
    OFF,
    /** Leave it to the template and the model (Qwen3 hybrid models think by default; {@code /think} and {@code /no_think} in messages steer them). */
    MODEL_DEFAULT
}
