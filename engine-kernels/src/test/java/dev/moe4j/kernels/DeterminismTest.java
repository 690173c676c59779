package dev.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The same kernel call gives the same bits in every JVM state: interpreted, compiled by C1, compiled by C2 (whose
 * Vector API intrinsics must agree with the Java fallback the other two run). Each state is a child JVM running
 * {@link KernelHashes}; {@code -Xbatch} makes the JIT compile synchronously, so that after the warm-up the kernels
 * run compiled code.
 */
class DeterminismTest {

    @Test
    void interpreterC1AndC2GiveTheSameBits() throws Exception {
        int bits = ChildJvm.width();
        ChildJvm interpreted = ChildJvm.run(KernelHashes.class, "interpreter", bits, 0, 120, "-Xint");
        ChildJvm c1 = ChildJvm.run(KernelHashes.class, "C1", bits, 300, 120, "-XX:TieredStopAtLevel=1", "-Xbatch");
        // the provider's entry points stay out of the child's hash loop: inlined into it (a race between that loop's
        // compilation and each kernel's own), a kernel ran C2 code under no name of its own and the check below
        // failed now and then; its internals still inline into the entry point as in the engine
        ChildJvm c2 = ChildJvm.run(KernelHashes.class, "C2", bits, 20_000, 120, "-Xbatch", "-XX:+PrintCompilation",
                "-XX:CompileCommand=quiet", "-XX:CompileCommand=dontinline,dev.moe4j.kernels.simd.VectorKernels::*");
        // 2 providers × (7 types × 2 token counts + 4 interleaved mat-vecs + 8 other kernels)
        assertEquals(2 * (DType.values().length * 2 + 4 + 8), interpreted.hashes().size(), interpreted.output());
        // a kernel may be inlined into its caller, so any compiled method of the name counts; at 512 bits the
        // tile that runs is the 16-lane one (the generic tile is never called there), and the interleaved matrices
        // take the 16-lane mat-vecs (four streams (Q8_0) or two (Q4_0) over whole groups, then one)
        List<String> compiled = c2.c2Compiled().stream().filter(method -> method.startsWith("dev.moe4j.kernels.simd."))
                .toList();
        String tile = bits == 512 ? "::multiplyTile16" : "::multiplyTile";
        List<String> kernels = new ArrayList<>(List.of("::matvec", tile, "::softmax", "::siluMul", "::scores",
                "::weightedSum", "::scores4", "::weightedSum4", "::attendInColumnOrder",
                bits == 512 ? "ColumnTile::tile16" : "ColumnTile::tile"));
        if (bits == 512) {
            kernels.add("::fourStreams"); // Q8_0
            kernels.add("::twoStreams"); // Q4_0
            kernels.add("::oneStream");
            kernels.add("::sum16");
        }
        for (String kernel : kernels) {
            assertTrue(compiled.stream().anyMatch(method -> method.endsWith(kernel)),
                    "the warm-up did not get " + kernel + " compiled by C2: " + compiled);
        }
        assertEquals(String.join("\n", interpreted.hashes()), String.join("\n", c1.hashes()), "interpreter vs C1");
        assertEquals(String.join("\n", interpreted.hashes()), String.join("\n", c2.hashes()), "interpreter vs C2");
    }
}
