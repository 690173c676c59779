package dev.moe4j.format.gguf;

import dev.moe4j.kernels.DType;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What {@code moe4j quantize --type} can produce: one block type for every matrix (like {@code llama-quantize
 * --pure}) or one of llama.cpp's mixes, with the {@code general.file_type} (LLAMA_FTYPE_MOSTLY_*) llama.cpp writes.
 */
public enum QuantType {
    Q8_0(DType.Q8_0, 7, false),
    Q4_0(DType.Q4_0, 2, false),
    Q4_K(DType.Q4_K, 15, false),
    Q5_K(DType.Q5_K, 17, false),
    Q6_K(DType.Q6_K, 18, false),
    Q4_K_M(DType.Q4_K, 15, true),
    Q5_K_M(DType.Q5_K, 17, true);

    /** The type of matrices the recipe does not single out. */
    public final DType base;
    /** GGUF {@code general.file_type}; llama-quantize writes the _M value for a pure Q4_K / Q5_K file too. */
    public final int fileType;
    /** True for llama.cpp's per-tensor mixes, false for one type throughout. */
    public final boolean mix;

    QuantType(DType base, int fileType, boolean mix) {
        this.base = base;
        this.fileType = fileType;
        this.mix = mix;
    }

    /** The lower-case names the CLI accepts. */
    public static String names() {
        return Arrays.stream(values()).map(t -> t.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining("|"));
    }

    /** Parses a case-insensitive name such as {@code q4_k_m}. */
    public static QuantType parse(String name) {
        for (QuantType t : values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown quantization type '" + name + "' (one of " + names() + ")");
    }

    /** The pure type for a block format, for callers that name a {@link DType}. */
    public static QuantType pure(DType type) {
        for (QuantType t : values()) {
            if (!t.mix && t.base == type) {
                return t;
            }
        }
        throw new IllegalArgumentException("cannot quantize to " + type + " (one of " + names() + ")");
    }
}
