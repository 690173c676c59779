package dev.moe4j.model;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.api.BadModelFileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Typed reads from a Hugging Face JSON file (config.json, generation_config.json) with messages naming the file and
 * key. Keys may be dotted paths into nested objects ({@code rope_scaling.factor}). A JSON {@code null} counts as
 * absent, as Hugging Face treats it ({@code "rope_scaling": null}).
 */
public final class JsonConfig {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JsonNode root;
    private final String file;

    JsonConfig(JsonNode root, String file) {
        if (root == null || !root.isObject()) {
            throw new BadModelFileException(file + ": should hold a JSON object");
        }
        this.root = root;
        this.file = file;
    }

    static JsonNode read(Path path) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new BadModelFileException("cannot read " + path + ": " + e, e);
        }
        return read(bytes, path.toString());
    }

    /** The JSON text of {@code file} (named in messages), parsed. */
    static JsonNode read(byte[] json, String file) {
        try {
            return JSON.readTree(json);
        } catch (JacksonException e) {
            throw new BadModelFileException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new BadModelFileException("cannot read " + file + ": " + e, e);
        }
    }

    public String file() {
        return file;
    }

    /** The value at a dotted path, or null when absent or JSON null. */
    public JsonNode get(String path) {
        JsonNode node = root;
        for (String part : path.split("\\.")) {
            node = node.isObject() ? node.get(part) : null;
            if (node == null || node.isNull()) {
                return null;
            }
        }
        return node;
    }

    /** The value of the first of {@code key}'s Hugging Face spellings present, or null. */
    public JsonNode get(ConfigKeys key) {
        for (String name : key.huggingFaceNames()) {
            JsonNode v = get(name);
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    public boolean has(ConfigKeys key) {
        return get(key) != null;
    }

    /**
     * The object at {@code key} as a config of its own (messages name it "file (key)"), or null when absent (a
     * multimodal checkpoint's {@code text_config}, say).
     */
    public JsonConfig section(ConfigKeys key) {
        JsonNode v = get(key);
        if (v == null) {
            return null;
        }
        if (!v.isObject()) {
            throw new BadModelFileException(file + ": '" + key.huggingFace() + "' should be an object, was " + v);
        }
        return new JsonConfig(v, file + " (" + key.huggingFace() + ")");
    }

    /** A list of integers, or null when absent. */
    public int[] getInts(ConfigKeys key) {
        JsonNode v = get(key);
        if (v == null) {
            return null;
        }
        if (!v.isArray()) {
            throw new BadModelFileException(file + ": '" + key.huggingFace() + "' should be a list of integers, was "
                    + v);
        }
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = asInt(key.huggingFace() + "[" + i + "]", v.get(i));
        }
        return out;
    }

    public int getInt(ConfigKeys key) {
        return asInt(key.huggingFace(), require(key));
    }

    public int getInt(ConfigKeys key, int fallback) {
        JsonNode v = get(key);
        return v == null ? fallback : asInt(key.huggingFace(), v);
    }

    public int getInt(String key, int fallback) {
        JsonNode v = get(key);
        return v == null ? fallback : asInt(key, v);
    }

    public double getDouble(ConfigKeys key) {
        return asDouble(key.huggingFace(), require(key));
    }

    public double getDouble(ConfigKeys key, double fallback) {
        JsonNode v = get(key);
        return v == null ? fallback : asDouble(key.huggingFace(), v);
    }

    public double getDouble(String key, double fallback) {
        JsonNode v = get(key);
        return v == null ? fallback : asDouble(key, v);
    }

    public boolean getBoolean(ConfigKeys key, boolean fallback) {
        JsonNode v = get(key);
        return v == null ? fallback : asBoolean(key.huggingFace(), v);
    }

    public boolean getBoolean(String key, boolean fallback) {
        JsonNode v = get(key);
        return v == null ? fallback : asBoolean(key, v);
    }

    public String getString(ConfigKeys key, String fallback) {
        JsonNode v = get(key);
        return v == null ? fallback : asString(key.huggingFace(), v);
    }

    private JsonNode require(ConfigKeys key) {
        JsonNode v = get(key);
        if (v == null) {
            throw new BadModelFileException(file + ": missing required key '" + key.huggingFace() + "'");
        }
        return v;
    }

    public int asInt(String name, JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new BadModelFileException(file + ": '" + name + "' should be an integer, was " + v);
        }
        return v.asInt();
    }

    public double asDouble(String name, JsonNode v) {
        if (!v.isNumber()) {
            throw new BadModelFileException(file + ": '" + name + "' should be a number, was " + v);
        }
        return v.asDouble();
    }

    public boolean asBoolean(String name, JsonNode v) {
        if (!v.isBoolean()) {
            throw new BadModelFileException(file + ": '" + name + "' should be true or false, was " + v);
        }
        return v.asBoolean();
    }

    public String asString(String name, JsonNode v) {
        if (!v.isTextual()) {
            throw new BadModelFileException(file + ": '" + name + "' should be a string, was " + v);
        }
        return v.asText();
    }

    /** An integer or a list of integers (e.g. {@code eos_token_id}), as an array; empty when absent. */
    public int[] intOrInts(String name) {
        JsonNode v = get(name);
        if (v == null) {
            return new int[0];
        }
        if (!v.isArray()) {
            return new int[] {asInt(name, v)};
        }
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = asInt(name + "[" + i + "]", v.get(i));
        }
        return out;
    }
}
