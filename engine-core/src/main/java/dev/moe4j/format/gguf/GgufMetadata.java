package dev.moe4j.format.gguf;

import dev.moe4j.api.BadModelFileException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The key-value metadata of a GGUF file. Scalars are boxed ({@code uint8}…{@code int32} as Integer, {@code uint32}
 * and 64-bit integers as Long, float32 as Float, float64 as Double, bool as Boolean, string as String); arrays of
 * numbers as primitive arrays ({@code int[]}, {@code long[]}, {@code float[]}, {@code double[]},
 * {@code boolean[]}), arrays of strings as {@code String[]}, arrays of arrays as {@code List<Object>}.
 */
public final class GgufMetadata {

    private static final int MAX_NESTING = 8;

    /** GGUF value type ids. */
    public static final int UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
            STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12;

    private final String file;
    private final Map<String, Object> values;
    private final Map<String, int[]> types;

    private GgufMetadata(String file, Map<String, Object> values, Map<String, int[]> types) {
        this.file = file;
        this.values = Collections.unmodifiableMap(values);
        this.types = Collections.unmodifiableMap(types);
    }

    static GgufMetadata read(String file, GgufCursor in, long count) {
        Map<String, Object> values = new LinkedHashMap<>();
        Map<String, int[]> types = new LinkedHashMap<>();
        for (long i = 0; i < count; i++) {
            String key = in.string("metadata key " + i);
            int type = in.i32("type of metadata '" + key + "'");
            long elementTypeAt = in.position();
            Object value = readValue(file, in, type, key, 0);
            if (values.put(key, value) != null) {
                throw new BadModelFileException(file + ": metadata key '" + key + "' appears twice");
            }
            types.put(key, type == ARRAY ? new int[] {type, in.peekI32(elementTypeAt)} : new int[] {type});
        }
        return new GgufMetadata(file, values, types);
    }

    private static Object readValue(String file, GgufCursor in, int type, String key, int depth) {
        String what = "metadata '" + key + "'";
        return switch (type) {
            case UINT8 -> in.u8(what);
            case INT8 -> (int) in.i8(what);
            case UINT16 -> in.i16(what) & 0xFFFF;
            case INT16 -> (int) in.i16(what);
            case UINT32 -> in.i32(what) & 0xFFFFFFFFL;
            case INT32 -> in.i32(what);
            case FLOAT32 -> Float.intBitsToFloat(in.i32(what));
            case BOOL -> readBool(file, in, key);
            case STRING -> in.string(what);
            case UINT64, INT64 -> in.i64(what);
            case FLOAT64 -> Double.longBitsToDouble(in.i64(what));
            case ARRAY -> readArray(file, in, key, depth);
            default -> throw new BadModelFileException(file + ": metadata '" + key + "' has unknown value type " + type);
        };
    }

    private static boolean readBool(String file, GgufCursor in, String key) {
        int b = in.u8("metadata '" + key + "'");
        if (b > 1) {
            throw new BadModelFileException(file + ": metadata '" + key + "' is a bool with byte value " + b);
        }
        return b == 1;
    }

    private static Object readArray(String file, GgufCursor in, String key, int depth) {
        if (depth >= MAX_NESTING) {
            throw new BadModelFileException(file + ": metadata '" + key + "' nests arrays deeper than " + MAX_NESTING);
        }
        int elemType = in.i32("element type of metadata '" + key + "'");
        String what = "metadata '" + key + "' element count";
        switch (elemType) {
            case UINT8, INT8, UINT16, INT16, INT32 -> {
                int width = elemType <= INT8 ? 1 : elemType <= INT16 ? 2 : 4;
                int n = toInt(file, key, in.count(what, width));
                int[] out = new int[n];
                for (int i = 0; i < n; i++) {
                    out[i] = ((Number) readValue(file, in, elemType, key, depth)).intValue();
                }
                return out;
            }
            case UINT32, UINT64, INT64 -> {
                int n = toInt(file, key, in.count(what, elemType == UINT32 ? 4 : 8));
                long[] out = new long[n];
                for (int i = 0; i < n; i++) {
                    out[i] = (Long) readValue(file, in, elemType, key, depth);
                }
                return out;
            }
            case FLOAT32 -> {
                int n = toInt(file, key, in.count(what, 4));
                float[] out = new float[n];
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat(in.i32(what));
                }
                return out;
            }
            case FLOAT64 -> {
                int n = toInt(file, key, in.count(what, 8));
                double[] out = new double[n];
                for (int i = 0; i < n; i++) {
                    out[i] = Double.longBitsToDouble(in.i64(what));
                }
                return out;
            }
            case BOOL -> {
                int n = toInt(file, key, in.count(what, 1));
                boolean[] out = new boolean[n];
                for (int i = 0; i < n; i++) {
                    out[i] = readBool(file, in, key);
                }
                return out;
            }
            case STRING -> {
                int n = toInt(file, key, in.count(what, 8));
                String[] out = new String[n];
                for (int i = 0; i < n; i++) {
                    out[i] = in.string("metadata '" + key + "' element " + i);
                }
                return out;
            }
            case ARRAY -> {
                // each nested array has at least its element type (4) and count (8)
                int n = toInt(file, key, in.count(what, 12));
                Object[] out = new Object[n];
                for (int i = 0; i < n; i++) {
                    out[i] = readArray(file, in, key, depth + 1);
                }
                return List.of(out);
            }
            default -> throw new BadModelFileException(
                    file + ": metadata '" + key + "' is an array of unknown value type " + elemType);
        }
    }

    private static int toInt(String file, String key, long n) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new BadModelFileException(file + ": metadata '" + key + "' array of " + n + " elements is too long");
        }
        return (int) n;
    }

    public Map<String, Object> asMap() {
        return values;
    }

    /**
     * The GGUF value type id of a key ({@code [type]}, or {@code [ARRAY, elementType]} for arrays), so a writer can
     * reproduce it exactly; null when absent.
     */
    public int[] typeOf(String key) {
        int[] t = types.get(key);
        return t == null ? null : t.clone();
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    /** The raw value, or null. */
    public Object get(String key) {
        return values.get(key);
    }

    private Object required(String key) {
        Object v = values.get(key);
        if (v == null) {
            throw new BadModelFileException(file + ": missing required metadata key '" + key + "'");
        }
        return v;
    }

    private BadModelFileException wrongType(String key, String expected) {
        Object v = values.get(key);
        return new BadModelFileException(file + ": metadata '" + key + "' should be " + expected + " but is "
                + (v == null ? "absent" : v.getClass().getSimpleName()));
    }

    public String getString(String key) {
        if (required(key) instanceof String s) {
            return s;
        }
        throw wrongType(key, "a string");
    }

    public String getString(String key, String fallback) {
        return contains(key) ? getString(key) : fallback;
    }

    public long getLong(String key) {
        Object v = required(key);
        if (v instanceof Integer || v instanceof Long) {
            return ((Number) v).longValue();
        }
        throw wrongType(key, "an integer");
    }

    /** An integer value that must fit an int and be at least {@code min}. */
    public int getInt(String key, int min) {
        long v = getLong(key);
        if (v < min || v > Integer.MAX_VALUE) {
            throw new BadModelFileException(file + ": metadata '" + key + "' is " + v + ", expected an integer >= " + min);
        }
        return (int) v;
    }

    public int getInt(String key, int min, int fallback) {
        return contains(key) ? getInt(key, min) : fallback;
    }

    public double getDouble(String key) {
        Object v = required(key);
        if (v instanceof Float || v instanceof Double) {
            return ((Number) v).doubleValue();
        }
        throw wrongType(key, "a float");
    }

    public double getDouble(String key, double fallback) {
        return contains(key) ? getDouble(key) : fallback;
    }

    public boolean getBoolean(String key, boolean fallback) {
        if (!contains(key)) {
            return fallback;
        }
        if (values.get(key) instanceof Boolean b) {
            return b;
        }
        throw wrongType(key, "a bool");
    }

    public String[] getStringArray(String key) {
        if (required(key) instanceof String[] a) {
            return a.clone();
        }
        throw wrongType(key, "an array of strings");
    }

    public int[] getIntArray(String key) {
        if (required(key) instanceof int[] a) {
            return a.clone();
        }
        throw wrongType(key, "an array of 8/16/32-bit integers");
    }
}
