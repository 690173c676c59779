package dev.moe4j.kernels.parallel;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one thread pool of the kernels and its parallel-for. Work is split into at most one contiguous chunk
 * per thread; the calling thread runs the first chunk itself, so a pool of one thread never hands off.
 * Threads are daemons: an embedding application never has to shut it down.
 */
public final class Parallel {

    /** A task over the index range [start, end). */
    @FunctionalInterface
    public interface RangeTask {
        void run(int start, int end);
    }

    private static final Parallel DEFAULT = new Parallel(defaultThreads());

    private final int threads;
    private final ExecutorService pool;

    public Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        this.threads = threads;
        AtomicInteger counter = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Worker(r, "moe4j-worker-" + counter.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, factory);
    }

    /** The shared pool: {@code -Dmoe4j.threads=N}, else the available processors. */
    public static Parallel common() {
        return DEFAULT;
    }

    private static int defaultThreads() {
        String prop = System.getProperty("moe4j.threads");
        if (prop != null && !prop.isBlank()) {
            try {
                int n = Integer.parseInt(prop.trim());
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException ignored) {
                // fall through to the machine default, as for values < 1
            }
            throw new IllegalArgumentException("-Dmoe4j.threads must be a positive integer, was '" + prop + "'");
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** Pool threads, so nested parallel loops can be recognised. */
    private static final class Worker extends Thread {
        Worker(Runnable r, String name) {
            super(r, name);
        }
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task} over [0, n), split into contiguous chunks of at least {@code minChunk} indices (so that
     * tiny loops stay on the calling thread), and returns when all chunks are done. Exceptions propagate.
     */
    public void forRange(int n, int minChunk, RangeTask task) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.min(threads, Math.max(1, n / Math.max(1, minChunk)));
        // a task already running on a worker runs nested loops itself: queuing them behind it could deadlock
        if (chunks == 1 || pool == null || Thread.currentThread() instanceof Worker) {
            task.run(0, n);
            return;
        }
        Future<?>[] futures = new Future<?>[chunks - 1];
        for (int c = 1; c < chunks; c++) {
            int start = (int) ((long) n * c / chunks);
            int end = (int) ((long) n * (c + 1) / chunks);
            futures[c - 1] = pool.submit(() -> task.run(start, end));
        }
        Throwable failure = null;
        try {
            task.run(0, (int) ((long) n / chunks));
        } catch (Throwable t) {
            failure = t;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        } else if (failure instanceof Error err) {
            throw err;
        } else if (failure != null) {
            throw new IllegalStateException("parallel task failed", failure);
        }
    }
}
