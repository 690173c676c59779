package dev.moe4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** This process's resident memory as Linux reports it, to check that a model's weights are resident once. */
public final class ResidentMemory {

    private ResidentMemory() {}

    /**
     * "resident 17.61 GB (anonymous 17.52, file 0.08)" from /proc/self/status (VmRSS, RssAnon, RssFile), or a note
     * that it is unknown on other systems.
     */
    public static String describe() {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return "resident memory unknown (no /proc/self/status)";
        }
        try {
            long rss = 0;
            long anon = 0;
            long file = 0;
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmRSS:")) {
                    rss = kilobytes(line);
                } else if (line.startsWith("RssAnon:")) {
                    anon = kilobytes(line);
                } else if (line.startsWith("RssFile:")) {
                    file = kilobytes(line);
                }
            }
            return String.format(Locale.ROOT, "resident %.2f GB (anonymous %.2f, file %.2f)", rss / 1e6, anon / 1e6,
                    file / 1e6);
        } catch (IOException e) {
            return "resident memory unknown (" + e.getMessage() + ")";
        }
    }

    private static long kilobytes(String line) {
        String[] parts = line.trim().split("\\s+");
        return Long.parseLong(parts[1]) * 1024 / 1000;
    }
}
