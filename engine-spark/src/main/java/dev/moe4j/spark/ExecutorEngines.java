package dev.moe4j.spark;

import dev.moe4j.api.Engine;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engines of this JVM: one per model file and engine settings, loaded by the first task that needs it and shared
 * by every later task of the executor (the engine is thread-safe and batches their rows together), closed when the
 * JVM exits. A model that fails to load is not remembered, so the next task tries again and fails with the same
 * message.
 */
public final class ExecutorEngines {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorEngines.class);

    private record Key(Path model, Moe4jSparkOptions.EngineSettings settings) {}

    /** Loads its engine once; tasks that arrive while it loads wait for it rather than load a second copy. */
    private static final class Slot {
        private final Key key;
        private Engine engine;

        Slot(Key key) {
            this.key = key;
        }

        synchronized Engine engine() {
            if (engine == null) {
                long start = System.nanoTime();
                Engine loaded = Engine.load(key.model(), key.settings().toEngineOptions());
                int count = CREATED.incrementAndGet();
                LOG.info("moe4j engine #{} of this JVM loaded: {} in {} ms ({})", count, key.model(),
                        (System.nanoTime() - start) / 1_000_000, key.settings());
                engine = loaded;
            }
            return engine;
        }

        synchronized void close() {
            if (engine != null) {
                engine.close();
                engine = null;
            }
        }
    }

    private static final Map<Key, Slot> SLOTS = new ConcurrentHashMap<>();
    private static final AtomicInteger CREATED = new AtomicInteger();

    static {
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("moe4j-engines-close").unstarted(
                ExecutorEngines::closeAll));
    }

    private ExecutorEngines() {}

    /**
     * This JVM's engine for the options' model and engine settings, loading it on first use.
     *
     * @param options the job's options
     * @return the shared engine; callers never close it
     * @throws dev.moe4j.api.BadModelFileException if the model cannot be found, copied or read (the message names
     *     it)
     * @throws dev.moe4j.api.UnsupportedModelException if moe4j does not support the model
     */
    static Engine engineFor(Moe4jSparkOptions options) {
        Key key = new Key(ModelLocator.localPath(options).toAbsolutePath(), options.engine());
        Slot slot = SLOTS.computeIfAbsent(key, Slot::new);
        try {
            return slot.engine();
        } catch (RuntimeException | Error e) {
            SLOTS.remove(key, slot);
            throw e;
        }
    }

    /**
     * Engines this JVM has loaded so far: one per model and settings when each executor shares its engine.
     *
     * @return the number of engines created since the JVM started
     */
    public static int instancesCreated() {
        return CREATED.get();
    }

    /** Closes every engine (at JVM exit): running requests end as cancelled, the weights are unmapped. */
    static void closeAll() {
        for (Slot slot : SLOTS.values()) {
            try {
                slot.close();
            } catch (RuntimeException e) {
                LOG.warn("closing a moe4j engine failed", e);
            }
        }
        SLOTS.clear();
    }
}
