package dev.moe4j.server;

import com.fasterxml.jackson.databind.JsonNode;

/** Typed reads of optional request fields; a wrong type or range is a 400 naming the field. */
final class JsonFields {
    private JsonFields() {}

    /** The field, or null when it is absent or JSON null (OpenAI clients send null for "not set"). */
    static JsonNode present(JsonNode body, String field) {
        JsonNode v = body.get(field);
        return v == null || v.isNull() ? null : v;
    }

    static void check(boolean ok, String param, String message) {
        if (!ok) {
            throw ApiException.invalid(param, message);
        }
    }

    static boolean optBool(JsonNode body, String field) {
        JsonNode v = present(body, field);
        if (v == null) {
            return false;
        }
        if (!v.isBoolean()) {
            throw ApiException.invalid(field, field + " must be a boolean");
        }
        return v.booleanValue();
    }

    static Double optDouble(JsonNode body, String field) {
        JsonNode v = present(body, field);
        if (v == null) {
            return null;
        }
        if (!v.isNumber() || !Double.isFinite(v.doubleValue())) {
            throw ApiException.invalid(field, field + " must be a number");
        }
        return v.doubleValue();
    }

    static Integer optInt(JsonNode body, String field, int min) {
        return optInt(body, field, min, field);
    }

    static Integer optInt(JsonNode body, String field, int min, String name) {
        JsonNode v = present(body, field);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw ApiException.invalid(name, name + " must be an integer");
        }
        if (v.intValue() < min) {
            throw ApiException.invalid(name, name + " must be >= " + min + ", was " + v.intValue());
        }
        return v.intValue();
    }

    static Long optLong(JsonNode body, String field) {
        JsonNode v = present(body, field);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.invalid(field, field + " must be an integer");
        }
        return v.longValue();
    }
}
