package dev.moe4j.bench.soak;

import dev.moe4j.api.ChatHandle;
import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.ContextFullException;
import dev.moe4j.api.Engine;
import dev.moe4j.api.FinishReason;
import dev.moe4j.api.ToolCall;
import dev.moe4j.kernels.Kernels;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Many clients at once against one engine for a while, each sending random requests (see {@link SoakRequest}) and
 * cancelling some, with every answer checked:
 * <ul>
 *   <li>each request that ran to its end is replayed alone on a second engine (one sequence at a time, no prefix
 *   cache) and must give the same response: content, reasoning, tool calls, usage, finish reason;
 *   its streamed text must equal its response's;</li>
 *   <li>each cancelled request must see no text callback after {@code cancel()} returned (one already running when
 *   a cancel from another thread lands is allowed) and complete within the engine's longest inter-token gap
 *   twice over (the step in flight, then the one that ends it);</li>
 *   <li>after each round (the clients finish their requests) every KV block is free (cached idle blocks count as
 *   free), no recurrent slot is held, nothing runs or waits; the heap after a full GC is recorded, and may not grow
 *   by more than {@link #HEAP_GROWTH_LIMIT_MB} from the second round to the last (the first with two rounds);</li>
 *   <li>after both engines are closed no thread they started is left.</li>
 * </ul>
 */
public final class Soak {

    /** Heap growth (MB, after GC) over the rounds that fails the soak. */
    public static final double HEAP_GROWTH_LIMIT_MB = 16;
    /** A request not ended this long after submission (or its cancel) is reported as hung. */
    private static final long HANG_SECONDS = 60;
    private static final int EXAMPLES = 5;

    /**
     * What to run.
     *
     * @param clients         concurrent clients, each with one request in flight at a time
     * @param durationMillis  the whole soak's length under load
     * @param rounds          parts of the duration, each ended by the idle checks and a heap reading
     * @param seed            the run's seed (requests derive from it and their number)
     * @param maxSequences    the engine's running sequences at once
     * @param kvBlocks        the engine's KV blocks; 0 = half of what {@code maxSequences} full contexts need
     *                        (fewer blocks make preemption frequent)
     * @param contextLength   positions per sequence (both engines)
     * @param cancelFraction  share of requests their client cancels
     * @param maxPromptTokens the longest random user turn
     * @param maxNewTokens    the largest {@code maxTokens} drawn
     */
    public record Settings(int clients, long durationMillis, int rounds, long seed, int maxSequences, int kvBlocks,
                           int contextLength, double cancelFraction, int maxPromptTokens, int maxNewTokens) {
        /** Checks the values. */
        public Settings {
            if (clients < 1 || durationMillis < 1 || rounds < 1 || maxSequences < 1 || kvBlocks < 0
                    || contextLength < 16 || !(cancelFraction >= 0 && cancelFraction <= 1) || maxPromptTokens < 1
                    || maxNewTokens < 1) {
                throw new IllegalArgumentException("soak settings out of range: " + this);
            }
        }
    }

    /**
     * The soak's findings; {@link #failures()} lists every check that failed (empty: all passed).
     *
     * @param heapMb             used heap after a full GC at the end of each round
     * @param heapGrowthMb       the last round's reading less the second's (the first's with fewer than three)
     * @param cancelBoundMs      the limit on a cancelled request's time from {@code cancel()} to its end
     * @param seconds            time under load: the rounds from their start until their clients' last requests ended
     * @param wallSeconds        the whole soak, with the waits for the replays after each round
     * @param refused            requests the engine refused at submission with {@link ContextFullException} (a prompt
     *                           longer than the context), as documented; not a failure
     * @param loadAverageStart   the machine's load average (1 min) when the soak began; -1 where unknown
     */
    public record Report(String model, String architecture, int clients, int maxSequences, int kvBlocks,
                         int contextLength, double seconds, double wallSeconds, int rounds, long submitted, long completed,
                         long cancelled, long refused, long errors, long hung, long replayed, long mismatches,
                         long streamMismatches, List<String> examples, int maxDeltasAfterCancel, double cancelP50Ms,
                         double cancelP99Ms, double cancelMaxMs, double cancelBoundMs, int leakedBlocks,
                         int leakedRecurrentSlots, int requestsLeftRunning, List<Double> heapMb, double heapGrowthMb,
                         List<String> leftoverThreads, double ttftP50Ms, double ttftP99Ms, double itlP50Ms,
                         double itlP99Ms, long tokensGenerated, long preemptions, long cachedPromptTokens,
                         double loadAverageStart, double loadAverageEnd, List<String> failures) {
        /** Whether every check passed. */
        public boolean passed() {
            return failures.isEmpty();
        }
    }

    private final Settings settings;
    private final Consumer<String> progress;
    private final AtomicLong nextIndex = new AtomicLong();
    private final AtomicLong submitted = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong cancelled = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong hung = new AtomicLong();
    private final AtomicLong replayed = new AtomicLong();
    private final AtomicLong mismatches = new AtomicLong();
    private final AtomicLong streamMismatches = new AtomicLong();
    private final AtomicInteger maxDeltasAfterCancel = new AtomicInteger();
    private final AtomicLong pendingReplays = new AtomicLong();
    private final List<String> examples = Collections.synchronizedList(new ArrayList<>());
    private final LatencyHistogram ttft = new LatencyHistogram();
    private final LatencyHistogram itl = new LatencyHistogram();
    private final LatencyHistogram cancelLatency = new LatencyHistogram();
    private final AtomicLong maxGapNanos = new AtomicLong();
    private final AtomicLong maxCancelNanos = new AtomicLong();
    private final LinkedBlockingQueue<Replay> replays = new LinkedBlockingQueue<>();

    private record Replay(SoakRequest request, ChatResponse response) {}

    private static final Replay END = new Replay(null, null);

    private Soak(Settings settings, Consumer<String> progress) {
        this.settings = settings;
        this.progress = progress;
    }

    /**
     * Runs a soak on the model: loads the engine under test and the reference engine from {@code base} options
     * (their sequences, context and KV blocks set from {@code settings}), drives them and closes both.
     *
     * @param model    a model file or directory
     * @param base     engine options (threads, rounded activations, prefix cache of the engine under test)
     * @param settings the load and its length
     * @param progress receives a line per round
     * @return the findings
     * @throws InterruptedException if the calling thread is interrupted
     */
    public static Report run(Path model, Engine.Options base, Settings settings, Consumer<String> progress)
            throws InterruptedException {
        return new Soak(settings, progress).run(model, base);
    }

    private Report run(Path model, Engine.Options base) throws InterruptedException {
        Set<Thread> before = baselineThreads();
        double loadStart = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        int blockSize = base.kvBlockSize();
        int contextBlocks = (settings.contextLength() + blockSize - 1) / blockSize;
        int kvBlocks = settings.kvBlocks() > 0 ? settings.kvBlocks()
                : Math.max(contextBlocks + 1, settings.maxSequences() * contextBlocks / 2);
        Engine.Options underTest = base.withMaxSequences(settings.maxSequences())
                .withContextLength(settings.contextLength()).withKvCacheBlocks(kvBlocks);
        Engine.Options alone = base.withMaxSequences(1).withContextLength(settings.contextLength())
                .withKvCacheBlocks(contextBlocks + 1).withPrefixCache(false);
        List<Double> heap = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        int leakedBlocks = 0;
        int leakedSlots = 0;
        int leftRunning = 0;
        String architecture;
        long tokens;
        long preemptions;
        long cachedTokens;
        long start = System.nanoTime();
        double seconds;
        double wallSeconds;
        int engineBlocks;
        try (Engine engine = Engine.load(model, underTest); Engine reference = Engine.load(model, alone)) {
            if (engine.contextLength() != reference.contextLength()) {
                throw new IllegalStateException("the two engines' context lengths differ: " + engine.contextLength()
                        + " and " + reference.contextLength());
            }
            architecture = engine.config().architecture() + " " + engine.config().numLayers() + "L";
            engineBlocks = engine.kvBlocks();
            SoakRequest.Generator generator = new SoakRequest.Generator(engine.tokenizer(), settings.seed(),
                    settings.cancelFraction(), settings.maxPromptTokens(), settings.maxNewTokens());
            Thread replayer = Thread.ofVirtual().name("soak-replay").start(() -> replayLoop(reference));
            try {
                start = System.nanoTime();
                long loadNanos = 0;
                for (int round = 0; round < settings.rounds(); round++) {
                    // each round's window starts once the last one's replays are done, so that every round is
                    // under full load for its share of the duration however far the replay lagged
                    long roundStart = System.nanoTime();
                    long deadline = roundStart + TimeUnit.MILLISECONDS.toNanos(settings.durationMillis())
                            * (round + 1) / settings.rounds()
                            - TimeUnit.MILLISECONDS.toNanos(settings.durationMillis()) * round / settings.rounds();
                    List<Thread> clients = new ArrayList<>();
                    for (int c = 0; c < settings.clients(); c++) {
                        clients.add(Thread.ofVirtual().name("soak-client-" + c)
                                .start(() -> clientLoop(engine, generator, deadline)));
                    }
                    for (Thread t : clients) {
                        t.join();
                    }
                    loadNanos += System.nanoTime() - roundStart;
                    while (pendingReplays.get() > 0) {
                        Thread.sleep(5); // the heap reading wants no answer still held for its replay
                    }
                    Idle idle = awaitIdle(engine);
                    leakedBlocks = Math.max(leakedBlocks, idle.leakedBlocks());
                    leakedSlots = Math.max(leakedSlots, idle.recurrentSlots());
                    leftRunning = Math.max(leftRunning, idle.requests());
                    heap.add(usedHeapAfterGcMb());
                    progress.accept(String.format("round %d/%d: %d submitted, %d completed, %d cancelled, %d"
                                    + " mismatches; heap %.1f MB; %d of %d KV blocks free", round + 1,
                            settings.rounds(), submitted.get(), completed.get(), cancelled.get(), mismatches.get(),
                            heap.getLast(), engine.freeKvBlocks(), engine.kvBlocks()));
                }
                seconds = loadNanos / 1e9;
                wallSeconds = (System.nanoTime() - start) / 1e9;
            } finally {
                replays.add(END);
                replayer.join();
            }
            tokens = engine.tokensGenerated();
            preemptions = engine.preemptions();
            cachedTokens = engine.cachedPromptTokens();
        }
        List<String> leftover = leftoverThreads(before);
        double loadEnd = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();

        double cancelBoundMs = 2 * maxGapNanos.get() / 1e6;
        // from the second reading when there are three or more: the first round also sizes buffers by the largest
        // batch seen so far, while a leak grows round after round
        double heapGrowth = heap.size() < 2 ? 0 : heap.getLast() - heap.get(heap.size() >= 3 ? 1 : 0);
        check(failures, mismatches.get() == 0, mismatches.get() + " responses differ from the request run alone");
        check(failures, streamMismatches.get() == 0, streamMismatches.get()
                + " streamed texts differ from their responses");
        check(failures, replayed.get() == completed.get(), "replayed " + replayed.get() + " of " + completed.get()
                + " completed requests");
        check(failures, errors.get() == 0, errors.get() + " requests failed");
        check(failures, hung.get() == 0, hung.get() + " requests did not end within " + HANG_SECONDS + " s");
        check(failures, maxDeltasAfterCancel.get() <= 1, "a cancelled request streamed "
                + maxDeltasAfterCancel.get() + " deltas after cancel() returned");
        check(failures, maxCancelNanos.get() / 1e6 <= cancelBoundMs, String.format(
                "a cancelled request ended %.1f ms after cancel(), over %.1f ms (two of the longest inter-token gaps)",
                maxCancelNanos.get() / 1e6, cancelBoundMs));
        check(failures, leakedBlocks == 0, leakedBlocks + " KV blocks still held when idle");
        check(failures, leakedSlots == 0, leakedSlots + " recurrent slots still held when idle");
        check(failures, leftRunning == 0, leftRunning + " requests still running or queued when idle");
        check(failures, heapGrowth <= HEAP_GROWTH_LIMIT_MB, String.format(
                "heap after GC grew %.1f MB over the rounds", heapGrowth));
        check(failures, leftover.isEmpty(), "threads left after close: " + leftover);
        return new Report(model.getFileName().toString(), architecture, settings.clients(), settings.maxSequences(),
                engineBlocks, settings.contextLength(), seconds, wallSeconds, settings.rounds(), submitted.get(),
                completed.get(), cancelled.get(), refused.get(), errors.get(), hung.get(), replayed.get(), mismatches.get(),
                streamMismatches.get(), List.copyOf(examples), maxDeltasAfterCancel.get(),
                cancelLatency.percentileMs(0.5), cancelLatency.percentileMs(0.99), maxCancelNanos.get() / 1e6,
                cancelBoundMs, leakedBlocks, leakedSlots, leftRunning, List.copyOf(heap), heapGrowth, leftover,
                ttft.percentileMs(0.5), ttft.percentileMs(0.99), itl.percentileMs(0.5), itl.percentileMs(0.99), tokens,
                preemptions, cachedTokens, loadStart, loadEnd, List.copyOf(failures));
    }

    private static void check(List<String> failures, boolean ok, String failure) {
        if (!ok) {
            failures.add(failure);
        }
    }

    private void clientLoop(Engine engine, SoakRequest.Generator generator, long deadline) {
        while (System.nanoTime() < deadline) {
            runOne(engine, generator.next(nextIndex.getAndIncrement()));
        }
    }

    /** One request through the engine under test, its checks, and its hand-off to the replay. */
    private void runOne(Engine engine, SoakRequest request) {
        Probe probe = new Probe(request);
        long t0 = System.nanoTime();
        ChatHandle handle;
        try {
            handle = request.chat() != null ? engine.chatStream(request.chat(), probe)
                    : engine.completeStream(request.completion(), probe);
        } catch (ContextFullException e) {
            refused.incrementAndGet(); // a prompt longer than the context: the documented refusal, not a fault
            return;
        } catch (RuntimeException e) {
            fail(errors, request, "refused: " + e);
            return;
        }
        submitted.incrementAndGet();
        probe.handle.complete(handle);
        try {
            if (request.cancel() == SoakRequest.Cancel.AFTER_DELAY) {
                Thread.sleep(request.cancelAfter());
                probe.cancelNow();
            } else if (request.cancel() == SoakRequest.Cancel.AFTER_DELTAS && request.cancelAfter() == 0) {
                probe.cancelNow();
            }
            ChatResponse response = probe.done.get(HANG_SECONDS, TimeUnit.SECONDS);
            if (handle.await() != response) {
                fail(errors, request, "await() returned another response than onComplete received");
            }
            if (probe.firstNanos != 0) {
                ttft.record(probe.firstNanos - t0);
            }
            if (response.finishReason() == FinishReason.CANCELLED) {
                cancelled.incrementAndGet();
                if (probe.cancelReturned == 0) {
                    fail(errors, request, "finished CANCELLED without a cancel");
                    return;
                }
                long latency = Math.max(0, probe.completedNanos - probe.cancelReturned);
                cancelLatency.record(latency);
                maxCancelNanos.accumulateAndGet(latency, Math::max);
                maxDeltasAfterCancel.accumulateAndGet(probe.deltasAfterCancel, Math::max);
                return;
            }
            completed.incrementAndGet();
            if (!probe.cancelBeforeComplete && (!probe.content.toString().equals(response.content())
                    || !probe.reasoning.toString().equals(response.reasoning())
                    || !probe.toolCalls.equals(response.toolCalls()))) {
                fail(streamMismatches, request, "streamed text differs from the response");
            }
            pendingReplays.incrementAndGet();
            replays.add(new Replay(request, response));
        } catch (TimeoutException e) {
            handle.cancel();
            fail(hung, request, "no end within " + HANG_SECONDS + " s");
        } catch (ExecutionException e) {
            fail(errors, request, "failed: " + e.getCause());
        } catch (InterruptedException e) {
            handle.cancel();
            Thread.currentThread().interrupt();
        }
    }

    private void replayLoop(Engine reference) {
        try {
            while (true) {
                Replay r = replays.take();
                if (r == END) {
                    return;
                }
                try {
                    ChatResponse alone = r.request().chat() != null ? reference.chat(r.request().chat())
                            : reference.complete(r.request().completion());
                    replayed.incrementAndGet();
                    List<String> diff = ResponseDiff.differences(alone, r.response());
                    if (!diff.isEmpty()) {
                        fail(mismatches, r.request(), String.join("; ", diff));
                    }
                } catch (RuntimeException e) {
                    fail(errors, r.request(), "replay failed: " + e);
                } finally {
                    pendingReplays.decrementAndGet();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void fail(AtomicLong counter, SoakRequest request, String what) {
        counter.incrementAndGet();
        if (examples.size() < EXAMPLES) {
            examples.add("request " + request.index() + " (seed " + settings.seed() + "): " + what);
        }
    }

    /** A listener that times the stream, keeps its text and cancels from inside when the request says so. */
    private final class Probe implements ChatListener {
        final SoakRequest request;
        final CompletableFuture<ChatHandle> handle = new CompletableFuture<>();
        final CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        final StringBuilder content = new StringBuilder();
        final StringBuilder reasoning = new StringBuilder();
        final List<ToolCall> toolCalls = new ArrayList<>();
        private final AtomicInteger cancelling = new AtomicInteger();
        volatile long cancelReturned;
        volatile long firstNanos;
        volatile long completedNanos;
        volatile boolean cancelBeforeComplete;
        volatile int deltasAfterCancel;
        private long lastNanos;
        private int deltas;

        Probe(SoakRequest request) {
            this.request = request;
        }

        void cancelNow() {
            if (cancelling.getAndIncrement() == 0) {
                handle.join().cancel();
                cancelReturned = System.nanoTime();
            }
        }

        private void delta() {
            long now = System.nanoTime();
            if (cancelReturned != 0) {
                deltasAfterCancel++;
            }
            if (lastNanos != 0) {
                itl.record(now - lastNanos);
                maxGapNanos.accumulateAndGet(now - lastNanos, Math::max);
            } else {
                firstNanos = now;
            }
            lastNanos = now;
            deltas++;
            if (request.cancel() == SoakRequest.Cancel.AFTER_DELTAS && deltas == request.cancelAfter()) {
                cancelNow();
            }
        }

        @Override
        public void onReasoning(String delta) {
            reasoning.append(delta);
            delta();
        }

        @Override
        public void onContent(String delta) {
            content.append(delta);
            delta();
        }

        @Override
        public void onToolCall(ToolCall call) {
            toolCalls.add(call);
            delta();
        }

        @Override
        public void onComplete(ChatResponse response) {
            completedNanos = System.nanoTime();
            cancelBeforeComplete = cancelling.get() > 0;
            done.complete(response);
        }

        @Override
        public void onError(Throwable error) {
            completedNanos = System.nanoTime();
            done.completeExceptionally(error);
        }
    }

    private record Idle(int leakedBlocks, int recurrentSlots, int requests) {}

    /** Waits up to two seconds for the engine to be idle (its counters trail the last step), then reads it. */
    private static Idle awaitIdle(Engine engine) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (true) {
            Idle idle = new Idle(engine.kvBlocks() - engine.freeKvBlocks(), engine.recurrentSlotsInUse(),
                    engine.runningRequests() + engine.queuedRequests());
            if (idle.equals(new Idle(0, 0, 0)) || System.nanoTime() > until) {
                return idle;
            }
            Thread.sleep(10);
        }
    }

    private static double usedHeapAfterGcMb() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024.0 * 1024.0);
    }

    /**
     * The live platform threads before the engines exist, once the process-wide pools they use are up: the kernels'
     * worker pool and the virtual-thread scheduler (its carrier threads come and go with load, so they never count).
     */
    private static Set<Thread> baselineThreads() throws InterruptedException {
        Kernels.get();
        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(1); // a timed sleep starts the virtual threads' unparker
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }).join();
        return new HashSet<>(Thread.getAllStackTraces().keySet());
    }

    /**
     * Threads of the JVM's own pools, which come and go with load and end when idle: the virtual threads' carriers
     * and the common fork-join pool's workers (the engine uses neither directly).
     */
    private static boolean processWide(Thread t) {
        return t.getClass().getName().equals("jdk.internal.misc.CarrierThread")
                || t instanceof ForkJoinWorkerThread w && w.getPool() == ForkJoinPool.commonPool();
    }

    /** Platform threads alive now that were not before, after up to five seconds for them to end. */
    private static List<String> leftoverThreads(Set<Thread> before) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            List<String> left = new ArrayList<>();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.isAlive() && !before.contains(t) && !processWide(t)) {
                    left.add(t.getName());
                }
            }
            if (left.isEmpty() || System.nanoTime() > until) {
                Collections.sort(left);
                return left;
            }
            Thread.sleep(20);
        }
    }
}
