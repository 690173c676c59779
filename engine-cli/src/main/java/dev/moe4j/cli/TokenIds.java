package dev.moe4j.cli;

/** Token ids written as text: integers separated by commas and/or whitespace ({@code 1,2,3} or {@code 1 2 3}). */
final class TokenIds {
    private TokenIds() {}

    /** @param what names the source in the error message, e.g. {@code --tokens} */
    static int[] parse(String what, String text) {
        String trimmed = text.strip();
        if (trimmed.isEmpty()) {
            return new int[0];
        }
        String[] parts = trimmed.split("[,\\s]+");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new UsageException(what + " must be comma-separated integers, found '" + parts[i] + "'");
            }
            if (ids[i] < 0) {
                throw new UsageException(what + " must be token ids >= 0, found " + ids[i]);
            }
        }
        return ids;
    }

    /** As {@link #parse}, for a prompt: at least one id. */
    static int[] prompt(String what, String text) {
        int[] ids = parse(what, text);
        if (ids.length == 0) {
            throw new UsageException(what + " holds no token ids");
        }
        return ids;
    }
}
