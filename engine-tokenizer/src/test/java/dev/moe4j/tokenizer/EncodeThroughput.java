package dev.moe4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Ad-hoc encode throughput (not a test; the JMH benchmark lives in engine-bench). Arguments: a Hugging Face
 * tokenizer.json, then {@code name=file[,file…]} corpora. Prints MB/s (UTF-8 input bytes) single-threaded:
 * "first pass" on a fresh tokenizer whose piece cache is empty (JIT already warm), and "steady" re-encoding the
 * same text with the cache warm, as a JMH loop over one text sees it.
 */
public final class EncodeThroughput {
    public static void main(String[] args) throws Exception {
        Path tokenizerJson = Path.of(args[0]);
        Map<String, String> corpora = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++) {
            String[] nameFiles = args[i].split("=", 2);
            StringBuilder text = new StringBuilder();
            for (String file : nameFiles[1].split(",")) {
                text.append(Files.readString(Path.of(file), StandardCharsets.UTF_8)).append('\n');
            }
            corpora.put(nameFiles[0], text.toString());
        }
        long loadStart = System.nanoTime();
        Tokenizer warm = Tokenizer.fromHuggingFace(tokenizerJson);
        System.out.printf("load tokenizer.json: %.0f ms%n", (System.nanoTime() - loadStart) / 1e6);
        for (long end = System.nanoTime() + 5_000_000_000L; System.nanoTime() < end; ) {
            for (String text : corpora.values()) {
                warm.encode(text);
            }
        }
        Tokenizer fresh = Tokenizer.fromHuggingFace(tokenizerJson);
        for (Map.Entry<String, String> corpus : corpora.entrySet()) {
            String text = corpus.getValue();
            double megabytes = text.getBytes(StandardCharsets.UTF_8).length / 1e6;
            long start = System.nanoTime();
            int tokens = fresh.encode(text).length;
            double firstPass = megabytes / ((System.nanoTime() - start) / 1e9);
            int iterations = 0;
            start = System.nanoTime();
            long elapsed;
            do {
                fresh.encode(text);
                iterations++;
                elapsed = System.nanoTime() - start;
            } while (elapsed < 3_000_000_000L);
            double steady = megabytes * iterations / (elapsed / 1e9);
            System.out.printf("%-8s %7.3f MB %8d tokens  first pass %6.1f MB/s  steady %6.1f MB/s%n",
                    corpus.getKey(), megabytes, tokens, firstPass, steady);
        }
    }
}
