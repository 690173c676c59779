package dev.moe4j.api;

/**
 * How the next token is chosen. Applied in this order (as Hugging Face does): penalties over the tokens generated
 * so far → temperature → top-k → top-p → min-p → a seeded draw. A temperature of 0 is greedy (argmax after
 * penalties).
 *
 * @param temperature       ≥ 0; 0 = greedy
 * @param topK              keep the k most likely tokens; 0 = no limit
 * @param topP              nucleus: keep the smallest set whose probability reaches p; in (0, 1]
 * @param minP              drop tokens below minP × the top probability; in [0, 1]
 * @param presencePenalty   subtracted once from the logit of every token already generated (OpenAI style)
 * @param frequencyPenalty  subtracted per occurrence of a token already generated (OpenAI style)
 * @param repetitionPenalty {@literal >} 0; 1 = off; a generated token's positive logit is divided by it, a negative
 *                          one multiplied (CTRL / Hugging Face style)
 */
public record SamplingParams(double temperature, int topK, double topP, double minP, double presencePenalty,
                             double frequencyPenalty, double repetitionPenalty) {

    /** Argmax, no penalties. */
    public static final SamplingParams GREEDY = new SamplingParams(0, 0, 1, 0, 0, 0, 1);
    /** Qwen's recommendation for thinking mode: temperature 0.6, top-p 0.95, top-k 20, min-p 0. */
    public static final SamplingParams THINKING = new SamplingParams(0.6, 20, 0.95, 0, 0, 0, 1);
    /** Qwen's recommendation for non-thinking mode: temperature 0.7, top-p 0.8, top-k 20, min-p 0. */
    public static final SamplingParams NON_THINKING = new SamplingParams(0.7, 20, 0.8, 0, 0, 0, 1);

    /**
     * Checks every parameter.
     *
     * @param temperature       ≥ 0; 0 = greedy
     * @param topK              ≥ 0; 0 = no limit
     * @param topP              in (0, 1]
     * @param minP              in [0, 1]
     * @param presencePenalty   finite
     * @param frequencyPenalty  finite
     * @param repetitionPenalty {@literal >} 0 and finite; 1 = off
     * @throws InvalidRequestException naming the first parameter out of its range (NaN is out of every range)
     */
    public SamplingParams {
        check(temperature >= 0 && Double.isFinite(temperature), "temperature must be >= 0, was " + temperature);
        check(topK >= 0, "topK must be >= 0 (0 = no limit), was " + topK);
        check(topP > 0 && topP <= 1, "topP must be in (0, 1], was " + topP);
        check(minP >= 0 && minP <= 1, "minP must be in [0, 1], was " + minP);
        check(Double.isFinite(presencePenalty), "presencePenalty must be finite, was " + presencePenalty);
        check(Double.isFinite(frequencyPenalty), "frequencyPenalty must be finite, was " + frequencyPenalty);
        check(repetitionPenalty > 0 && Double.isFinite(repetitionPenalty),
                "repetitionPenalty must be > 0 (1 = off), was " + repetitionPenalty);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new InvalidRequestException(message);
        }
    }

    /**
     * Whether the next token is the argmax (after penalties).
     *
     * @return true when the temperature is 0
     */
    public boolean isGreedy() {
        return temperature == 0;
    }

    /**
     * These parameters with another temperature.
     *
     * @param t ≥ 0; 0 = greedy
     * @return the new parameters
     * @throws InvalidRequestException if {@code t} is negative or not finite
     */
    public SamplingParams withTemperature(double t) {
        return new SamplingParams(t, topK, topP, minP, presencePenalty, frequencyPenalty, repetitionPenalty);
    }

    /**
     * These parameters with another top-k.
     *
     * @param k ≥ 0; 0 = no limit
     * @return the new parameters
     * @throws InvalidRequestException if {@code k} is negative
     */
    public SamplingParams withTopK(int k) {
        return new SamplingParams(temperature, k, topP, minP, presencePenalty, frequencyPenalty, repetitionPenalty);
    }

    /**
     * These parameters with another top-p.
     *
     * @param p in (0, 1]
     * @return the new parameters
     * @throws InvalidRequestException if {@code p} is outside (0, 1]
     */
    public SamplingParams withTopP(double p) {
        return new SamplingParams(temperature, topK, p, minP, presencePenalty, frequencyPenalty, repetitionPenalty);
    }

    /**
     * These parameters with another min-p.
     *
     * @param p in [0, 1]
     * @return the new parameters
     * @throws InvalidRequestException if {@code p} is outside [0, 1]
     */
    public SamplingParams withMinP(double p) {
        return new SamplingParams(temperature, topK, topP, p, presencePenalty, frequencyPenalty, repetitionPenalty);
    }

    /**
     * These parameters with another presence penalty.
     *
     * @param p finite; 0 = off
     * @return the new parameters
     * @throws InvalidRequestException if {@code p} is not finite
     */
    public SamplingParams withPresencePenalty(double p) {
        return new SamplingParams(temperature, topK, topP, minP, p, frequencyPenalty, repetitionPenalty);
    }

    /**
     * These parameters with another frequency penalty.
     *
     * @param p finite; 0 = off
     * @return the new parameters
     * @throws InvalidRequestException if {@code p} is not finite
     */
    public SamplingParams withFrequencyPenalty(double p) {
        return new SamplingParams(temperature, topK, topP, minP, presencePenalty, p, repetitionPenalty);
    }

    /**
     * These parameters with another repetition penalty.
     *
     * @param p {@literal >} 0 and finite; 1 = off
     * @return the new parameters
     * @throws InvalidRequestException if {@code p} is not positive or not finite
     */
    public SamplingParams withRepetitionPenalty(double p) {
        return new SamplingParams(temperature, topK, topP, minP, presencePenalty, frequencyPenalty, p);
    }
}
