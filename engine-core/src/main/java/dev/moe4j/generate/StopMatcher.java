package dev.moe4j.generate;

import java.util.List;

/**
 * Finds stop strings in streamed text that arrives in pieces, holding back any tail that could still become a
 * stop string so that no part of one is ever emitted.
 */
public final class StopMatcher {
    private final List<String> stops;
    private final int longest;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    public StopMatcher(List<String> stops) {
        this.stops = List.copyOf(stops);
        int max = 0;
        for (String s : this.stops) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
            max = Math.max(max, s.length());
        }
        this.longest = max;
    }

    public boolean stopped() {
        return stopped;
    }

    /** Adds text; returns what can be emitted now (possibly empty). After a stop, returns the text before it once. */
    public String push(String text) {
        if (stopped) {
            return "";
        }
        pending.append(text);
        int earliest = -1;
        for (String s : stops) {
            int at = pending.indexOf(s);
            if (at >= 0 && (earliest < 0 || at < earliest)) {
                earliest = at;
            }
        }
        if (earliest >= 0) {
            stopped = true;
            String out = pending.substring(0, earliest);
            pending.setLength(0);
            return out;
        }
        int hold = holdBack();
        String out = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return out;
    }

    /** The held-back tail, at the end of generation (it did not become a stop string). */
    public String flush() {
        String out = stopped ? "" : pending.toString();
        pending.setLength(0);
        return out;
    }

    /** Length of the longest suffix of pending that is a proper prefix of some stop string. */
    private int holdBack() {
        int max = Math.min(longest - 1, pending.length());
        if (max <= 0) {
            return 0;
        }
        String tail = pending.substring(pending.length() - max);
        for (int len = max; len > 0; len--) {
            int start = max - len;
            for (String s : stops) {
                if (s.length() > len && tail.regionMatches(start, s, 0, len)) {
                    return len;
                }
            }
        }
        return 0;
    }
}
