package dev.moe4j.springai;

import dev.moe4j.api.Thinking;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code moe4j.*} settings of {@link Moe4jAutoConfiguration}: the model to load, how the engine serves it, and the
 * chat model's defaults (unset ones: the engine's own).
 */
@ConfigurationProperties(prefix = "moe4j")
public class Moe4jProperties {
    /** A GGUF file or Hugging Face model directory; the auto-configuration is off without it. */
    private String modelPath;
    /** Positions per sequence; 0 = the model's, capped at what the KV cache holds. */
    private int contextLength;
    /** Requests generated at the same time. */
    private int maxSequences = 8;
    /** KV cache memory; 0 = 80 % of the heap still free after loading. */
    private long kvCacheBytes;
    /** Whether the model thinks before answering; unset = the template's default. */
    private Thinking thinking;
    /** Default temperature; unset = Qwen's recommendation for the thinking mode. */
    private Double temperature;
    /** Default cap on generated tokens (reasoning included). */
    private Integer maxTokens;

    public String getModelPath() {
        return modelPath;
    }

    public void setModelPath(String modelPath) {
        this.modelPath = modelPath;
    }

    public int getContextLength() {
        return contextLength;
    }

    public void setContextLength(int contextLength) {
        this.contextLength = contextLength;
    }

    public int getMaxSequences() {
        return maxSequences;
    }

    public void setMaxSequences(int maxSequences) {
        this.maxSequences = maxSequences;
    }

    public long getKvCacheBytes() {
        return kvCacheBytes;
    }

    public void setKvCacheBytes(long kvCacheBytes) {
        this.kvCacheBytes = kvCacheBytes;
    }

    public Thinking getThinking() {
        return thinking;
    }

    public void setThinking(Thinking thinking) {
        this.thinking = thinking;
    }

    public Double getTemperature() {
        return temperature;
    }

    public void setTemperature(Double temperature) {
        this.temperature = temperature;
    }

    public Integer getMaxTokens() {
        return maxTokens;
    }

    public void setMaxTokens(Integer maxTokens) {
        this.maxTokens = maxTokens;
    }
}
