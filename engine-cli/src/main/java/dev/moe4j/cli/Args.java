package dev.moe4j.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Minimal command-line parsing: {@code --name value}, {@code -x value}, flags, and positionals. */
final class Args {
    private final Map<String, String> options = new HashMap<>();
    private final List<String> positionals = new ArrayList<>();

    /** @param flags option names that take no value */
    Args(String[] argv, int from, Set<String> flags) {
        for (int i = from; i < argv.length; i++) {
            String a = argv[i];
            if (a.startsWith("-") && a.length() > 1 && !isNumber(a)) {
                String name = a.replaceFirst("^--?", "");
                if (flags.contains(name)) {
                    options.put(name, "true");
                } else {
                    if (i + 1 >= argv.length) {
                        throw new UsageException("option " + a + " needs a value");
                    }
                    options.put(name, argv[++i]);
                }
            } else {
                positionals.add(a);
            }
        }
    }

    private static boolean isNumber(String s) {
        return s.matches("-\\d+(\\.\\d+)?");
    }

    String get(String name) {
        return options.get(name);
    }

    String get(String name, String fallback) {
        return options.getOrDefault(name, fallback);
    }

    String require(String name) {
        String v = options.get(name);
        if (v == null) {
            throw new UsageException("missing required option --" + name);
        }
        return v;
    }

    boolean flag(String name) {
        return options.containsKey(name);
    }

    int getInt(String name, int fallback) {
        String v = options.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be an integer, was '" + v + "'");
        }
    }

    List<String> positionals() {
        return positionals;
    }

    static int[] parseTokenList(String s) {
        String[] parts = s.trim().split("[,\\s]+");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new UsageException("--tokens must be comma-separated integers, found '" + parts[i] + "'");
            }
        }
        return out;
    }

    /** A problem with how the command was called: printed with the usage, exit code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }
}
