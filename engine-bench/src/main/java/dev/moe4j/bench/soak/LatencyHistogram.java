package dev.moe4j.bench.soak;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Latencies in logarithmic buckets of 1 % from 1 µs to about 20 minutes: fixed memory however long the soak runs
 * (so that its own samples do not show as heap growth), percentiles within 1 %. Thread-safe.
 */
final class LatencyHistogram {
    private static final double MIN_NANOS = 1_000;
    private static final double RATIO = 1.01;
    private static final int BUCKETS = 2100;

    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);

    void record(long nanos) {
        int bucket = nanos <= MIN_NANOS ? 0
                : (int) Math.min(BUCKETS - 1, Math.ceil(Math.log(nanos / MIN_NANOS) / Math.log(RATIO)));
        counts.incrementAndGet(bucket);
    }

    long count() {
        long n = 0;
        for (int i = 0; i < BUCKETS; i++) {
            n += counts.get(i);
        }
        return n;
    }

    /** The p-quantile's bucket's upper bound in milliseconds; NaN without samples. */
    double percentileMs(double p) {
        long total = count();
        if (total == 0) {
            return Double.NaN;
        }
        long rank = Math.max(1, (long) Math.ceil(p * total));
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts.get(i);
            if (seen >= rank) {
                return MIN_NANOS * Math.pow(RATIO, i) / 1e6;
            }
        }
        return MIN_NANOS * Math.pow(RATIO, BUCKETS - 1) / 1e6;
    }
}
