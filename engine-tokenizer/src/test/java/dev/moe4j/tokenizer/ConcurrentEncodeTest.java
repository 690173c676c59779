package dev.moe4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** One tokenizer shared by several threads gives the same ids as one thread: the piece cache races are benign. */
class ConcurrentEncodeTest {
    @Test
    void sharedTokenizerEncodesAlikeFromManyThreads() throws Exception {
        Tokenizer tokenizer = Qwen3Fixtures.tokenizer();
        RandomText random = new RandomText(77);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 4_000; i++) {
            texts.add(random.next());
        }
        List<int[]> expected = new ArrayList<>();
        for (String text : texts) {
            expected.add(tokenizer.encode(text));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int thread = 0; thread < 4; thread++) {
                List<Integer> order = new ArrayList<>();
                for (int i = 0; i < texts.size(); i++) {
                    order.add(i);
                }
                Collections.shuffle(order, new Random(thread));
                done.add(pool.submit(() -> {
                    for (int i : order) {
                        assertArrayEquals(expected.get(i), tokenizer.encode(texts.get(i)));
                    }
                }));
            }
            for (Future<?> future : done) {
                future.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
