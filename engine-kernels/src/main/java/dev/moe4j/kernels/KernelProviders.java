package dev.moe4j.kernels;

import java.lang.reflect.InvocationTargetException;

/**
 * Chooses the kernel provider once per JVM. {@code -Dmoe4j.kernels=scalar|vector} forces one;
 * {@code -Dmoe4j.vector.bits=128|256|512} forces the Vector API species width. When
 * {@code jdk.incubator.vector} is not in the boot layer the scalar kernels run, after one logged line saying how
 * to enable the fast path. The kernels module depends on nothing but the JDK, so it logs through
 * {@link System.Logger}, which an application can route to SLF4J.
 */
public final class KernelProviders {

    private static final System.Logger LOG = System.getLogger(KernelProviders.class.getName());
    private static final String VECTOR_CLASS = "dev.moe4j.kernels.simd.VectorKernels";

    private KernelProviders() {}

    private static final class Holder {
        static final KernelProvider PREFERRED = choose();
    }

    /** The provider this JVM uses. */
    public static KernelProvider preferred() {
        return Holder.PREFERRED;
    }

    public static KernelProvider scalar() {
        return ScalarKernels.INSTANCE;
    }

    /** Whether {@code jdk.incubator.vector} is readable, i.e. the JVM was started with it added. */
    public static boolean vectorApiAvailable() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /**
     * The Vector API provider at a given width ({@code 0} for the machine's preferred width).
     *
     * @throws IllegalStateException if the Vector API module is not available
     */
    public static KernelProvider vector(int bits) {
        if (!vectorApiAvailable()) {
            throw new IllegalStateException(
                    "the Vector API is not available: start the JVM with --add-modules jdk.incubator.vector");
        }
        try {
            return (KernelProvider) Class.forName(VECTOR_CLASS).getConstructor(int.class).newInstance(bits);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("cannot create " + VECTOR_CLASS, e.getCause());
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("cannot create " + VECTOR_CLASS + ": " + e, e);
        }
    }

    private static KernelProvider choose() {
        String forced = System.getProperty("moe4j.kernels", "").trim();
        int bits = Integer.getInteger("moe4j.vector.bits", 0);
        switch (forced) {
            case "scalar" -> {
                LOG.log(System.Logger.Level.INFO, "moe4j kernels: scalar (forced by -Dmoe4j.kernels=scalar)");
                return scalar();
            }
            case "vector" -> {
                return vector(bits);
            }
            case "" -> {
                // choose below
            }
            default -> throw new IllegalArgumentException(
                    "-Dmoe4j.kernels must be 'scalar' or 'vector', was '" + forced + "'");
        }
        if (!vectorApiAvailable()) {
            LOG.log(System.Logger.Level.WARNING, "moe4j kernels: running the slow scalar kernels because jdk.incubator.vector is not"
                    + " available; add the JVM option --add-modules jdk.incubator.vector for the SIMD kernels");
            return scalar();
        }
        try {
            return vector(bits);
        } catch (RuntimeException | LinkageError e) {
            LOG.log(System.Logger.Level.WARNING, "moe4j kernels: Vector API kernels unavailable (" + e + "); running scalar kernels");
            return scalar();
        }
    }
}
