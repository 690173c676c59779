package dev.moe4j.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Native memory for weights copied at load ({@link Matrix#interleaved()}). On Linux, when this module may call
 * native functions ({@code --enable-native-access}), the memory is mapped anonymously and advised for transparent
 * huge pages ({@code madvise(MADV_HUGEPAGE)}) before it is touched: a mat-vec streaming a model's weights then
 * walks one page table entry per 2 MiB instead of per 4 KiB, which measured 15-25 % more bandwidth for Q8_0 on a
 * virtual machine, where every TLB miss is a nested page walk. Otherwise, or if mapping fails, ordinary native
 * memory. Either way the memory is freed when the segment is no longer reachable. No native code of ours is
 * involved: {@code mmap}, {@code madvise} and {@code munmap} are called from the C library through the FFM API.
 * {@code -Dmoe4j.hugePages=false} turns the mapping off.
 */
public final class WeightMemory {

    private static final long HUGE_PAGE = 2L << 20;
    private static final long SMALL_PAGE = 4096;
    private static final System.Logger LOG = System.getLogger(WeightMemory.class.getName());
    private static final Libc LIBC = Libc.find();

    /** Whether this module may call restricted FFM methods, needed for {@link #kernelView}. */
    private static final boolean NATIVE_ACCESS = WeightMemory.class.getModule().isNativeAccessEnabled();

    /** File mappings handed out as {@link #kernelView}s; an entry whose arena closed is dead and dropped. */
    private static final List<MemorySegment> FILE_VIEWS = new CopyOnWriteArrayList<>();

    private static final AtomicBoolean WARNED =
            new AtomicBoolean();

    private WeightMemory() {}

    /**
     * {@code mapped}, a file mapping, as a segment of the same class as the copies {@link #allocate} makes (same
     * address, size, arena and read-only flag), when this module has native access; otherwise {@code mapped}.
     * C2 compiles a kernel's loads for the segment classes it has seen, and a kernel that saw both file mappings
     * and copies ran several times slower (docs/decisions.md), so every weight should reach the kernels as one class.
     */
    public static MemorySegment kernelView(MemorySegment mapped) {
        if (!mapped.isMapped()) {
            return mapped;
        }
        if (!NATIVE_ACCESS) {
            if (!WARNED.getAndSet(true)) {
                LOG.log(System.Logger.Level.WARNING, "no native access for " + WeightMemory.class.getModule()
                        + ": mapped and copied weights stay two segment classes, which makes the quantized kernels several"
                        + " times slower; run with --enable-native-access=ALL-UNNAMED (or =dev.moe4j.kernels on"
                        + " the module path)");
            }
            return mapped;
        }
        MemorySegment view = mapped.reinterpret(mapped.byteSize());
        FILE_VIEWS.removeIf(v -> !v.scope().isAlive());
        FILE_VIEWS.add(view);
        return view;
    }

    /** Whether {@code source} lies in a file mapping, directly or through a live {@link #kernelView}. */
    public static boolean fileBacked(MemorySegment source) {
        if (source.isMapped()) {
            return true;
        }
        for (MemorySegment view : FILE_VIEWS) {
            // the same scope: a slice of that view (an address reused after an unmapping has another scope)
            if (view.scope().equals(source.scope()) && view.scope().isAlive()
                    && source.address() >= view.address()
                    && source.address() + source.byteSize() <= view.address() + view.byteSize()) {
                return true;
            }
        }
        return false;
    }

    /** {@code bytes} of zeroed native memory, 64-byte aligned at least, for a weight copy made at load. */
    public static MemorySegment allocate(long bytes) {
        return allocate(bytes, LIBC != null);
    }

    /** As {@link #allocate(long)}, with huge pages only if {@code hugePages} (and available). */
    static MemorySegment allocate(long bytes, boolean hugePages) {
        // mapped too when smaller than a huge page: a MoE's experts are thousands of 1-2 MiB matrices, and arena
        // memory counts against -XX:MaxDirectMemorySize (the heap size by default), which they would exceed
        if (hugePages && LIBC != null && bytes >= SMALL_PAGE) {
            MemorySegment mapped = LIBC.map(bytes, bytes >= HUGE_PAGE);
            if (mapped != null) {
                return mapped;
            }
        }
        try {
            return Arena.ofAuto().allocate(bytes, 64);
        } catch (OutOfMemoryError e) {
            throw new OutOfMemoryError("no native memory for a " + bytes + "-byte weight copy (" + e.getMessage()
                    + "): run with --enable-native-access=ALL-UNNAMED, raise -XX:MaxDirectMemorySize, or load with"
                    + " -Dmoe4j.repack=false to compute from the mapped file");
        }
    }

    /**
     * Drops the pages wholly inside {@code source}, a file mapping whose bytes were just copied, from this process's
     * resident set ({@code madvise(MADV_DONTNEED)}): they stay in the page cache and fault back in if read again, so
     * nothing changes but the resident memory, which then counts each weight once. Does nothing for other memory, or
     * without native access.
     */
    public static void releaseMappedPages(MemorySegment source) {
        if (LIBC == null || !fileBacked(source)) {
            return;
        }
        long start = (source.address() + SMALL_PAGE - 1) & -SMALL_PAGE;
        long end = (source.address() + source.byteSize()) & -SMALL_PAGE;
        if (end > start) {
            LIBC.dontNeed(start, end - start);
        }
    }

    /** Whether huge-page mappings are in use in this JVM. */
    static boolean hugePages() {
        return LIBC != null;
    }

    private record Libc(MethodHandle mmap, MethodHandle madvise, MethodHandle munmap) {
        private static final int PROT_READ_WRITE = 0x1 | 0x2;
        private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
        private static final int MADV_HUGEPAGE = 14;
        private static final int MADV_DONTNEED = 4;

        static Libc find() {
            if (!"Linux".equals(System.getProperty("os.name"))
                    || "false".equalsIgnoreCase(System.getProperty("moe4j.hugePages"))
                    || !WeightMemory.class.getModule().isNativeAccessEnabled()) {
                return null;
            }
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                MethodHandle mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                MethodHandle madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_INT));
                MethodHandle munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
                return new Libc(mmap, madvise, munmap);
            } catch (RuntimeException | LinkageError e) {
                LOG.log(System.Logger.Level.DEBUG, "huge-page weight memory unavailable: " + e);
                return null;
            }
        }

        void dontNeed(long address, long bytes) {
            try {
                int rc = (int) madvise.invokeExact(MemorySegment.ofAddress(address), bytes, MADV_DONTNEED);
                if (rc != 0) {
                    LOG.log(System.Logger.Level.DEBUG, "madvise(MADV_DONTNEED) of " + bytes + " bytes failed");
                }
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.DEBUG, "madvise(MADV_DONTNEED) failed: " + t);
            }
        }

        /** An anonymous mapping of {@code bytes}, huge-page-advised if {@code huge}, or null if the mapping fails. */
        MemorySegment map(long bytes, boolean huge) {
            long page = huge ? HUGE_PAGE : SMALL_PAGE;
            long size = (bytes + page - 1) / page * page;
            long length = huge ? size + HUGE_PAGE : size; // room to align the start to a huge page
            try {
                MemorySegment region = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, length, PROT_READ_WRITE,
                        MAP_PRIVATE_ANONYMOUS, -1, 0L);
                long base = region.address();
                if (base == -1L) { // MAP_FAILED
                    return null;
                }
                long start = huge ? (base + HUGE_PAGE - 1) & -HUGE_PAGE : base;
                if (huge) {
                    int ignored = (int) madvise.invokeExact(MemorySegment.ofAddress(start), size, MADV_HUGEPAGE);
                }
                MethodHandle unmap = munmap;
                return MemorySegment.ofAddress(start).reinterpret(bytes, Arena.ofAuto(), segment -> {
                    try {
                        int rc = (int) unmap.invokeExact(MemorySegment.ofAddress(base), length);
                    } catch (Throwable t) {
                        LOG.log(System.Logger.Level.WARNING, "munmap of weight memory failed: " + t);
                    }
                });
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.DEBUG, "mmap of " + bytes + " bytes failed: " + t);
                return null;
            }
        }
    }
}
