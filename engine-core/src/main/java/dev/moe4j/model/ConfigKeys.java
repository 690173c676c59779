package dev.moe4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moe4j.api.BadModelFileException;
import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.format.gguf.GgufMetadata;
import dev.moe4j.kernels.Rope;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.IntBinaryOperator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each {@link ModelConfig} field lives: the GGUF metadata key (after the {@code <arch>.} prefix) and the
 * Hugging Face config.json key. One table, so both sources fill the same record the same way.
 */
public enum ConfigKeys {
    CONTEXT_LENGTH("context_length", "max_position_embeddings"),
    VOCAB_SIZE("vocab_size", "vocab_size"),
    HIDDEN_SIZE("embedding_length", "hidden_size"),
    NUM_LAYERS("block_count", "num_hidden_layers"),
    INTERMEDIATE_SIZE("feed_forward_length", "intermediate_size"),
    NUM_HEADS("attention.head_count", "num_attention_heads"),
    NUM_KV_HEADS("attention.head_count_kv", "num_key_value_heads"),
    HEAD_DIM("attention.key_length", "head_dim"),
    VALUE_DIM("attention.value_length", "head_dim"),
    RMS_EPS("attention.layer_norm_rms_epsilon", "rms_norm_eps"),
    // newer transformers (v5) write rope_parameters in place of rope_theta + rope_scaling
    ROPE_THETA("rope.freq_base", "rope_theta", "rope_parameters.rope_theta"),
    ROPE_SCALING_TYPE("rope.scaling.type", "rope_scaling.rope_type", "rope_scaling.type",
            "rope_parameters.rope_type", "rope_parameters.type"),
    ROPE_SCALING_FACTOR("rope.scaling.factor", "rope_scaling.factor", "rope_parameters.factor"),
    ROPE_SCALING_ORIGINAL_CONTEXT("rope.scaling.original_context_length",
            "rope_scaling.original_max_position_embeddings", "rope_parameters.original_max_position_embeddings"),
    YARN_BETA_FAST("rope.scaling.yarn_beta_fast", "rope_scaling.beta_fast", "rope_parameters.beta_fast"),
    YARN_BETA_SLOW("rope.scaling.yarn_beta_slow", "rope_scaling.beta_slow", "rope_parameters.beta_slow"),
    YARN_ATTENTION_FACTOR(null, "rope_scaling.attention_factor", "rope_parameters.attention_factor"),
    YARN_MSCALE(null, "rope_scaling.mscale", "rope_parameters.mscale"),
    YARN_MSCALE_ALL_DIM(null, "rope_scaling.mscale_all_dim", "rope_parameters.mscale_all_dim"),
    YARN_TRUNCATE(null, "rope_scaling.truncate", "rope_parameters.truncate"),
    NUM_EXPERTS("expert_count", "num_experts", "num_local_experts"),
    NUM_EXPERTS_PER_TOK("expert_used_count", "num_experts_per_tok"),
    EXPERT_INTERMEDIATE_SIZE("expert_feed_forward_length", "moe_intermediate_size"),
    NORM_TOPK_PROB("expert_weights_norm", "norm_topk_prob"),
    SHARED_EXPERT_INTERMEDIATE_SIZE("expert_shared_feed_forward_length", "shared_expert_intermediate_size"),
    // the hybrid (Gated DeltaNet + gated attention) models
    ROPE_DIMS("rope.dimension_count", null),
    // Hugging Face's three sections (temporal, height, width); GGUF adds a fourth, 0 for text
    ROPE_SECTIONS("rope.dimension_sections", "rope_parameters.mrope_section", "rope_scaling.mrope_section"),
    PARTIAL_ROTARY_FACTOR(null, "partial_rotary_factor", "rope_parameters.partial_rotary_factor"),
    FULL_ATTENTION_INTERVAL("full_attention_interval", "full_attention_interval"),
    LAYER_TYPES(null, "layer_types"),
    ATTN_OUTPUT_GATE(null, "attn_output_gate"),
    LINEAR_CONV_KERNEL("ssm.conv_kernel", "linear_conv_kernel_dim"),
    LINEAR_STATE_SIZE("ssm.state_size", null),
    LINEAR_KEY_HEADS("ssm.group_count", "linear_num_key_heads"),
    LINEAR_VALUE_HEADS("ssm.time_step_rank", "linear_num_value_heads"),
    LINEAR_INNER_SIZE("ssm.inner_size", null),
    LINEAR_KEY_DIM(null, "linear_key_head_dim"),
    LINEAR_VALUE_DIM(null, "linear_value_head_dim"),
    // GGUF has no key for these: ties show as a missing output.weight, and converted Qwen3-MoE files are MoE in
    // every layer
    TIE_WORD_EMBEDDINGS(null, "tie_word_embeddings"),
    DECODER_SPARSE_STEP(null, "decoder_sparse_step"),
    MLP_ONLY_LAYERS(null, "mlp_only_layers"),
    // a multimodal checkpoint's config.json holds the text model's keys in this object
    TEXT_CONFIG(null, "text_config"),
    // Hugging Face options moe4j does not implement; read only to refuse a config that turns them on
    HIDDEN_ACT(null, "hidden_act"),
    ATTENTION_BIAS(null, "attention_bias"),
    USE_SLIDING_WINDOW(null, "use_sliding_window");

    private static final Logger LOG = LoggerFactory.getLogger(ConfigKeys.class);

    private final String gguf;
    private final List<String> huggingFace;

    /** {@code gguf} is null when GGUF has no such key; later Hugging Face spellings are read when the first is absent. */
    ConfigKeys(String gguf, String huggingFace, String... huggingFaceAliases) {
        this.gguf = gguf;
        this.huggingFace = Stream.concat(Stream.of(huggingFace), Stream.of(huggingFaceAliases)).toList();
    }

    /** The full GGUF key for an architecture, e.g. {@code qwen3.attention.key_length}. */
    public String gguf(String arch) {
        if (gguf == null) {
            throw new IllegalStateException(this + " has no GGUF key");
        }
        return arch + "." + gguf;
    }

    /** The config.json key (a dotted path for nested values, e.g. {@code rope_scaling.factor}). */
    public String huggingFace() {
        return huggingFace.get(0);
    }

    /** The config.json key and its alternative spellings, in the order they are looked up. */
    public List<String> huggingFaceNames() {
        return huggingFace;
    }

    /**
     * Fills a config from GGUF metadata. {@code vocabSize} and {@code tiedEmbeddings} come from the tensors (the
     * embedding's row count, the absence of {@code output.weight}); the architecture named in the file reads its own
     * keys ({@link Architecture#config(GgufMetadata, int, boolean)}).
     */
    public static ModelConfig fromGguf(GgufMetadata md, int vocabSize, boolean tiedEmbeddings) {
        return Architecture.forName(md.getString("general.architecture")).config(md, vocabSize, tiedEmbeddings);
    }

    /**
     * The keys every architecture of the family shares, from GGUF metadata. {@code intermediateSize} is the dense
     * FFN width the architecture read (0 when it has none); {@code moe} its expert settings or null.
     */
    public static ModelConfig gguf(GgufMetadata md, String arch, int vocabSize, boolean tiedEmbeddings,
                                   int intermediateSize, ModelConfig.MoeConfig moe) {
        int headDim = md.getInt(HEAD_DIM.gguf(arch), 1);
        int valueDim = md.getInt(VALUE_DIM.gguf(arch), 1, headDim);
        if (valueDim != headDim) {
            throw new UnsupportedModelException("key length " + headDim + " differs from value length " + valueDim);
        }
        int numHeads = md.getInt(NUM_HEADS.gguf(arch), 1);
        Rope.Yarn yarn = null;
        String scaling = md.getString(ROPE_SCALING_TYPE.gguf(arch), "none");
        switch (scaling) {
            case "none" -> { }
            case "yarn" -> yarn = new Rope.Yarn(
                    md.getDouble(ROPE_SCALING_FACTOR.gguf(arch)),
                    md.getInt(ROPE_SCALING_ORIGINAL_CONTEXT.gguf(arch), 1),
                    md.getDouble(YARN_BETA_FAST.gguf(arch), 32),
                    md.getDouble(YARN_BETA_SLOW.gguf(arch), 1),
                    Double.NaN);
            default -> throw new UnsupportedModelException("RoPE scaling '" + scaling + "' is not supported (yarn is)");
        }
        double eps = md.getDouble(RMS_EPS.gguf(arch));
        return new ModelConfig(arch, vocabSize,
                md.getInt(HIDDEN_SIZE.gguf(arch), 1),
                md.getInt(NUM_LAYERS.gguf(arch), 1),
                numHeads,
                md.getInt(NUM_KV_HEADS.gguf(arch), 1, numHeads),
                headDim,
                intermediateSize,
                (float) eps,
                md.getDouble(ROPE_THETA.gguf(arch), 10000.0),
                yarn,
                md.getInt(CONTEXT_LENGTH.gguf(arch), 1),
                moe,
                tiedEmbeddings);
    }

    /**
     * The experts of the hybrid architectures from GGUF metadata: top-k always renormalised (their files carry no
     * {@code expert_weights_norm}), every layer MoE, one shared expert.
     */
    public static ModelConfig.MoeConfig sharedExpertMoe(GgufMetadata md, String arch) {
        return new ModelConfig.MoeConfig(
                md.getInt(NUM_EXPERTS.gguf(arch), 1),
                md.getInt(NUM_EXPERTS_PER_TOK.gguf(arch), 1),
                md.getInt(EXPERT_INTERMEDIATE_SIZE.gguf(arch), 1),
                true, 1, Set.of(),
                md.getInt(SHARED_EXPERT_INTERMEDIATE_SIZE.gguf(arch), 1));
    }

    /** The Gated DeltaNet layers' sizes from GGUF metadata (the hybrid architectures share these keys). */
    public static ModelConfig.LinearAttention linearAttention(GgufMetadata md, String arch) {
        int dim = md.getInt(LINEAR_STATE_SIZE.gguf(arch), 1);
        ModelConfig.LinearAttention linear = new ModelConfig.LinearAttention(
                md.getInt(LINEAR_KEY_HEADS.gguf(arch), 1),
                md.getInt(LINEAR_VALUE_HEADS.gguf(arch), 1),
                dim, dim,
                md.getInt(LINEAR_CONV_KERNEL.gguf(arch), 1),
                md.getInt(FULL_ATTENTION_INTERVAL.gguf(arch), 1));
        int inner = md.getInt(LINEAR_INNER_SIZE.gguf(arch), 1);
        if (inner != linear.valueHeads() * linear.valueDim()) {
            throw new BadModelFileException(LINEAR_INNER_SIZE.gguf(arch) + " " + inner + " is not value heads "
                    + linear.valueHeads() + " × state size " + dim);
        }
        return linear;
    }

    /**
     * Fills a config from a Hugging Face {@code config.json} ({@code file} names it in messages). Unknown keys are
     * ignored. Absent keys take the defaults of transformers' {@code Qwen3Config} / {@code Qwen3MoeConfig}:
     * <ul>
     * <li>{@code rms_norm_eps} 1e-6, {@code rope_theta} 10000, {@code max_position_embeddings} 32768,
     *     {@code tie_word_embeddings} false, {@code rope_scaling} none;
     * <li>{@code num_key_value_heads} = {@code num_attention_heads} (what {@code Qwen3Config} does with a null);
     * <li>{@code head_dim}: 128 for qwen3 (a {@code Qwen3Config} field), {@code hidden_size / num_attention_heads}
     *     for qwen3_moe ({@code Qwen3MoeConfig} has no such field; its attention falls back to that quotient);
     * <li>{@code norm_topk_prob} false (Hugging Face's default; GGUF files, which lack the key, mean true),
     *     {@code decoder_sparse_step} 1, {@code mlp_only_layers} [];
     * <li>YaRN: {@code beta_fast} 32, {@code beta_slow} 1, {@code original_max_position_embeddings} =
     *     {@code max_position_embeddings}, attention factor 0.1·ln(factor) + 1.
     * </ul>
     * The sizes ({@code vocab_size}, {@code hidden_size}, {@code num_hidden_layers}, {@code num_attention_heads},
     * {@code intermediate_size} where a layer is dense, expert counts and width) are required: their class defaults
     * describe one reference checkpoint (Qwen3-8B, Qwen3-30B-A3B), so a config.json without them is reported, not
     * guessed. A multimodal checkpoint's config.json holds the text model's keys in {@code text_config}: they are
     * read from there (its {@code model_type}, else the top level's, names the architecture; {@code
     * tie_word_embeddings} may sit at the top level), and only the text model is loaded.
     */
    public static ModelConfig fromHuggingFace(JsonNode configJson, String file) {
        JsonConfig top = new JsonConfig(configJson, file);
        // a multimodal checkpoint: its text model's keys sit under text_config, and only the text model is run
        JsonConfig text = top.section(TEXT_CONFIG);
        JsonConfig c = text != null ? text : top;
        Architecture arch = huggingFaceArchitecture(
                c.get("model_type") != null || c.get("architectures") != null ? c : top);
        if (text != null) {
            LOG.info("{}: a multimodal checkpoint (model_type {}, architectures {}): loading its text model as {}, the"
                    + " vision tower is skipped", file, top.get("model_type"), top.get("architectures"), arch.name());
        }
        refuseUnsupportedOptions(c);
        ModelConfig config = arch.config(c);
        if (text != null && !text.has(TIE_WORD_EMBEDDINGS) && top.has(TIE_WORD_EMBEDDINGS)) {
            config = config.withTiedEmbeddings(top.getBoolean(TIE_WORD_EMBEDDINGS, false));
        }
        return config;
    }

    /**
     * The Gated DeltaNet layers' sizes from config.json (the hybrid architectures share these keys). Which layers are
     * full attention follows {@code full_attention_interval} (transformers' default 4, or from {@code layer_types});
     * a {@code layer_types} list that does not follow that pattern is refused.
     */
    public static ModelConfig.LinearAttention linearAttention(JsonConfig c) {
        int layers = c.getInt(NUM_LAYERS);
        List<String> types = null;
        JsonNode typesJson = c.get(LAYER_TYPES);
        if (typesJson != null) {
            if (!typesJson.isArray() || typesJson.size() != layers) {
                throw new BadModelFileException(c.file() + ": '" + LAYER_TYPES.huggingFace() + "' should list the "
                        + layers + " layers' types, was " + typesJson);
            }
            types = new ArrayList<>();
            for (int i = 0; i < layers; i++) {
                types.add(c.asString(LAYER_TYPES.huggingFace() + "[" + i + "]", typesJson.get(i)));
            }
        }
        // without the key: transformers' default 4, or what layer_types shows (no full attention: none)
        int firstFull = types == null ? -1 : types.indexOf("full_attention");
        int interval = c.getInt(FULL_ATTENTION_INTERVAL,
                types == null ? 4 : firstFull < 0 ? layers + 1 : firstFull + 1);
        ModelConfig.LinearAttention linear;
        try {
            linear = new ModelConfig.LinearAttention(c.getInt(LINEAR_KEY_HEADS), c.getInt(LINEAR_VALUE_HEADS),
                    c.getInt(LINEAR_KEY_DIM), c.getInt(LINEAR_VALUE_DIM), c.getInt(LINEAR_CONV_KERNEL), interval);
        } catch (UnsupportedModelException e) {
            throw new UnsupportedModelException(c.file() + ": " + e.getMessage());
        }
        for (int i = 0; types != null && i < layers; i++) {
            String expected = linear.isFullAttention(i) ? "full_attention" : "linear_attention";
            if (!types.get(i).equals(expected)) {
                throw new UnsupportedModelException(c.file() + ": '" + LAYER_TYPES.huggingFace() + "[" + i + "]' is '"
                        + types.get(i) + "' where full attention every " + interval + " layers makes it '" + expected
                        + "'; only that pattern of linear_attention and full_attention layers is supported");
            }
        }
        return linear;
    }

    /**
     * The rotated dims at the start of each head: {@code int(head_dim × partial_rotary_factor)}, as transformers
     * computes them ({@code defaultFactor} when config.json has no factor: the architecture's class default).
     */
    public static int partialRotaryDims(JsonConfig c, int headDim, double defaultFactor) {
        double factor = c.getDouble(PARTIAL_ROTARY_FACTOR, defaultFactor);
        int dims = (int) (headDim * factor);
        if (!(factor > 0 && factor <= 1) || dims < 2 || dims % 2 != 0) {
            throw new UnsupportedModelException(c.file() + ": '" + PARTIAL_ROTARY_FACTOR.huggingFace() + "' "
                    + factor + " rotates " + dims + " of head_dim " + headDim + " dims; an even number from 2 to"
                    + " head_dim is supported");
        }
        return dims;
    }

    /**
     * The keys every architecture of the family shares, from config.json. {@code headDim} gives the architecture's
     * default head size from (hidden size, heads); {@code moe} reads its expert settings (null: dense in every
     * layer), after the shared sizes so that a missing size is reported first.
     */
    public static ModelConfig huggingFace(JsonConfig c, String arch, IntBinaryOperator headDim,
                                          Function<JsonConfig, ModelConfig.MoeConfig> moe) {
        String file = c.file();
        int numLayers = c.getInt(NUM_LAYERS);
        int numHeads = c.getInt(NUM_HEADS);
        int hidden = c.getInt(HIDDEN_SIZE);
        int head = c.getInt(HEAD_DIM, headDim.applyAsInt(hidden, Math.max(numHeads, 1)));
        int contextLength = c.getInt(CONTEXT_LENGTH, 32768);

        Rope.Yarn yarn = null;
        String scaling = c.getString(ROPE_SCALING_TYPE, "default");
        switch (scaling) {
            case "default" -> { }
            case "yarn" -> yarn = huggingFaceYarn(c, contextLength);
            default -> throw new UnsupportedModelException(file + ": RoPE scaling '" + scaling
                    + "' is not supported (yarn is)");
        }

        ModelConfig.MoeConfig experts = moe == null ? null : moe.apply(c);
        // without a walk over the layers, which a claimed two billion of them would make a hang: layer 0 is dense
        // unless every layer is sparse (step 1), and otherwise only mlp_only_layers are
        boolean anyDense = experts == null || numLayers > 0 && (experts.decoderSparseStep() > 1
                || experts.mlpOnlyLayers().stream().anyMatch(layer -> layer >= 0 && layer < numLayers));
        // a MoE model without dense layers never uses intermediate_size (released ones still write it)
        int intermediate = anyDense ? c.getInt(INTERMEDIATE_SIZE) : c.getInt(INTERMEDIATE_SIZE, 0);
        if (anyDense && intermediate <= 0) {
            throw new BadModelFileException(file + ": '" + INTERMEDIATE_SIZE.huggingFace() + "' must be positive, was "
                    + intermediate);
        }
        return new ModelConfig(arch,
                c.getInt(VOCAB_SIZE),
                hidden,
                numLayers,
                numHeads,
                c.getInt(NUM_KV_HEADS, numHeads),
                head,
                intermediate,
                (float) c.getDouble(RMS_EPS, 1e-6),
                c.getDouble(ROPE_THETA, 10000.0),
                yarn,
                contextLength,
                experts,
                c.getBoolean(TIE_WORD_EMBEDDINGS, false));
    }

    /** {@code mlp_only_layers}: the layer indices forced dense. */
    public static Set<Integer> mlpOnlyLayers(JsonConfig c) {
        Set<Integer> mlpOnly = new HashSet<>();
        JsonNode layers = c.get(MLP_ONLY_LAYERS);
        if (layers != null) {
            if (!layers.isArray()) {
                throw new BadModelFileException(c.file() + ": '" + MLP_ONLY_LAYERS.huggingFace()
                        + "' should be a list of layer indices, was " + layers);
            }
            for (JsonNode layer : layers) {
                mlpOnly.add(c.asInt(MLP_ONLY_LAYERS.huggingFace(), layer));
            }
        }
        return mlpOnly;
    }

    /** The architecture named by {@code model_type}, or else by the first {@code architectures} entry. */
    private static Architecture huggingFaceArchitecture(JsonConfig c) {
        JsonNode modelType = c.get("model_type");
        JsonNode classes = c.get("architectures");
        String classNames = classes == null ? "" : " (architectures " + classes + ")";
        if (modelType != null) {
            String type = c.asString("model_type", modelType);
            return Architecture.ALL.stream().filter(a -> a.huggingFaceModelTypes().contains(type)).findFirst()
                    .orElseThrow(() -> new UnsupportedModelException(c.file() + ": model_type '" + type + "'"
                            + classNames + " is not supported (supported: " + String.join(", ", sorted(
                            Architecture.ALL.stream().flatMap(a -> a.huggingFaceModelTypes().stream()))) + ")"));
        }
        if (classes != null && classes.isArray() && !classes.isEmpty()) {
            String name = c.asString("architectures[0]", classes.get(0));
            return Architecture.ALL.stream().filter(a -> a.huggingFaceClasses().contains(name)).findFirst()
                    .orElseThrow(() -> new UnsupportedModelException(c.file() + ": architecture '" + name
                            + "' is not supported (supported: " + String.join(", ", sorted(
                            Architecture.ALL.stream().flatMap(a -> a.huggingFaceClasses().stream()))) + ")"));
        }
        throw new BadModelFileException(c.file() + ": names no 'model_type' or 'architectures'");
    }

    private static void refuseUnsupportedOptions(JsonConfig c) {
        String act = c.getString(HIDDEN_ACT, "silu");
        if (!act.equals("silu")) {
            throw new UnsupportedModelException(c.file() + ": hidden_act '" + act + "' is not supported (silu is)");
        }
        if (c.getBoolean(ATTENTION_BIAS, false)) {
            throw new UnsupportedModelException(c.file() + ": attention_bias true is not supported");
        }
        if (c.getBoolean(USE_SLIDING_WINDOW, false)) {
            throw new UnsupportedModelException(c.file() + ": use_sliding_window true is not supported");
        }
    }

    /** A YaRN block the way transformers' {@code _compute_yarn_parameters} reads it. */
    private static Rope.Yarn huggingFaceYarn(JsonConfig c, int contextLength) {
        if (!c.getBoolean(YARN_TRUNCATE, true)) {
            throw new UnsupportedModelException(c.file() + ": YaRN with truncate false is not supported");
        }
        double factor = c.getDouble(ROPE_SCALING_FACTOR);
        if (!(factor > 0)) {
            throw new BadModelFileException(c.file() + ": '" + ROPE_SCALING_FACTOR.huggingFace()
                    + "' must be positive, was " + factor);
        }
        int original = c.getInt(ROPE_SCALING_ORIGINAL_CONTEXT, contextLength);
        if (original <= 0) {
            throw new BadModelFileException(c.file() + ": '" + ROPE_SCALING_ORIGINAL_CONTEXT.huggingFace()
                    + "' must be positive, was " + original);
        }
        // transformers reads the betas with `or`, so 0 also means the default
        double betaFast = c.getDouble(YARN_BETA_FAST, 0);
        double betaSlow = c.getDouble(YARN_BETA_SLOW, 0);
        double attentionFactor = c.getDouble(YARN_ATTENTION_FACTOR, Double.NaN);
        double mscale = c.getDouble(YARN_MSCALE, 0);
        double mscaleAllDim = c.getDouble(YARN_MSCALE_ALL_DIM, 0);
        if (Double.isNaN(attentionFactor) && mscale != 0 && mscaleAllDim != 0) {
            attentionFactor = yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim);
        }
        return new Rope.Yarn(factor, original, betaFast != 0 ? betaFast : 32, betaSlow != 0 ? betaSlow : 1,
                attentionFactor);
    }

    private static double yarnMscale(double scale, double mscale) {
        return scale <= 1 ? 1.0 : 0.1 * mscale * Math.log(scale) + 1.0;
    }

    private static List<String> sorted(Stream<String> names) {
        return names.sorted().toList();
    }
}
