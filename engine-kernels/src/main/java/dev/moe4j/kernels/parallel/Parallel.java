package dev.moe4j.kernels.parallel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one thread pool of the kernels and its parallel-for. A decode step hands the pool a few hundred small loops,
 * so the hand-off must cost microseconds: workers spin briefly on a job counter before parking, and the calling
 * thread runs the first chunk itself and spins for the rest. {@link #forRange} gives each thread one contiguous chunk;
 * {@link #forRangeClaimed} lets the threads claim small pieces until none are left, for loops where a thread that
 * runs slow (a cloud VM's core shared with a neighbour) would otherwise hold the others at the end. One loop runs at
 * a time; a loop started while another runs (from a second thread, or nested inside a chunk) runs on its caller's
 * thread alone. Threads are daemons: an embedding application never has to shut the pool down.
 */
public final class Parallel {

    /** A task over the index range [start, end). */
    @FunctionalInterface
    public interface RangeTask {
        void run(int start, int end);
    }

    /** How long an idle worker spins before it parks. */
    private static final long SPIN_NANOS = 30_000;

    private static final Parallel DEFAULT = new Parallel(defaultThreads());

    private final int threads;
    private final Worker[] workers;
    private final ReentrantLock running = new ReentrantLock();
    private final AtomicLong epoch = new AtomicLong();
    private final AtomicInteger remaining = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    // the current loop; published by the volatile write of epoch
    private RangeTask task;
    private int size;
    private int chunks;
    // claimed loops: the next index to claim, and how many indices a claim takes (0: static chunks; every loop sets it)
    private final AtomicInteger next = new AtomicInteger();
    private int grain;

    public Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
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
                // reported below, as for values < 1
            }
            throw new IllegalArgumentException("-Dmoe4j.threads must be a positive integer, was '" + prop + "'");
        }
        return Runtime.getRuntime().availableProcessors();
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task} over [0, n), split into at most one contiguous chunk per thread of at least
     * {@code minChunk} indices (so that tiny loops stay on the calling thread), and returns when all chunks are
     * done. The first exception thrown by any chunk is rethrown.
     */
    public void forRange(int n, int minChunk, RangeTask task) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.min(threads, Math.max(1, n / Math.max(1, minChunk)));
        if (chunks == 1 || !enter()) {
            task.run(0, n);
            return;
        }
        runEntered(task, n, chunks, 0);
    }

    /**
     * Runs {@code task} over [0, n) in pieces of {@code grain} indices that the threads claim one after another
     * until none are left, so that a thread slowed by anything (another process on its core, a cache it shares)
     * gets fewer pieces instead of holding the others at the end. Which thread runs a piece must not matter to
     * the task. A range of at most one piece, a pool of one thread, or a loop started inside another runs on the
     * caller as one piece. Returns when all pieces are done; the first exception thrown is rethrown.
     */
    public void forRangeClaimed(int n, int grain, RangeTask task) {
        if (n <= 0) {
            return;
        }
        if (grain < 1) {
            throw new IllegalArgumentException("grain must be >= 1, was " + grain);
        }
        if (n <= grain || threads == 1 || !enter()) {
            task.run(0, n);
            return;
        }
        runEntered(task, n, threads, grain);
    }

    /** Takes the pool for one loop, unless this thread is a worker, already runs a loop, or another loop runs. */
    private boolean enter() {
        return !(Thread.currentThread() instanceof Worker) && !running.isHeldByCurrentThread() && running.tryLock();
    }

    /**
     * One loop on the pool taken by {@link #enter}: {@code chunks} static chunks (grain 0), or pieces of
     * {@code grain} claimed by every thread; the caller takes its share, waits for the workers, rethrows.
     */
    private void runEntered(RangeTask task, int n, int chunks, int grain) {
        try {
            this.task = task;
            this.size = n;
            this.chunks = chunks;
            this.grain = grain;
            next.set(0);
            failure.set(null);
            remaining.set(workers.length);
            epoch.incrementAndGet();
            for (Worker w : workers) {
                if (w.parked) {
                    LockSupport.unpark(w);
                }
            }
            try {
                if (grain > 0) {
                    claim(task, n, grain);
                } else {
                    task.run(0, bound(n, 0, chunks));
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
            for (int spins = 0; remaining.get() != 0; spins++) {
                if (spins < 2_000) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield(); // more threads than cores: let the workers run
                }
            }
            this.task = null;
            Throwable t = failure.get();
            if (t instanceof RuntimeException re) {
                throw re;
            } else if (t instanceof Error err) {
                throw err;
            } else if (t != null) {
                throw new IllegalStateException("parallel task failed", t);
            }
        } finally {
            running.unlock();
        }
    }

    private void claim(RangeTask task, int n, int grain) {
        // compare-and-set, not add: the counter never passes n, so it cannot overflow near Integer.MAX_VALUE
        for (int start; (start = next.get()) < n; ) {
            int end = start + Math.min(grain, n - start);
            if (next.compareAndSet(start, end)) {
                task.run(start, end);
            }
        }
    }

    private static int bound(int n, int chunk, int chunks) {
        return (int) ((long) n * (chunk + 1) / chunks);
    }

    /** Pool thread {@code index} (1-based: the caller is chunk 0) runs chunk {@code index} of every loop. */
    private final class Worker extends Thread {
        private final int index;
        volatile boolean parked;

        Worker(int index) {
            super("moe4j-worker-" + index);
            this.index = index;
            setDaemon(true);
        }

        @Override
        public void run() {
            long seen = 0; // the epoch at construction: a loop started before this thread ran is not missed
            while (true) {
                long spinStart = System.nanoTime();
                long now;
                while ((now = epoch.get()) == seen) {
                    if (System.nanoTime() - spinStart < SPIN_NANOS) {
                        Thread.onSpinWait();
                    } else {
                        parked = true;
                        if (epoch.get() == seen) {
                            LockSupport.park(this);
                        }
                        parked = false;
                    }
                }
                seen = now;
                try {
                    if (grain > 0) {
                        claim(task, size, grain);
                    } else if (index < chunks) {
                        task.run((int) ((long) size * index / chunks), bound(size, index, chunks));
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
                remaining.decrementAndGet();
            }
        }
    }
}
