package dev.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The Gated DeltaNet kernels give the same bits interpreted, compiled by C1 and compiled by C2, as
 * {@link DeterminismTest} checks for the other kernels (child JVMs running {@link DeltaNetHashes}); and in every
 * state the vector delta rule and convolution window equal the specification's bits.
 */
class DeltaNetDeterminismTest {

    @Test
    void interpreterC1AndC2GiveTheSameBits() throws Exception {
        int bits = ChildJvm.width();
        ChildJvm interpreted = ChildJvm.run(DeltaNetHashes.class, "interpreter", bits, 0, 300, "-Xint");
        ChildJvm c1 = ChildJvm.run(DeltaNetHashes.class, "C1", bits, 300, 300, "-XX:TieredStopAtLevel=1", "-Xbatch");
        // the provider's entry points stay out of the warm-up loop, so that each kernel is compiled under its name
        ChildJvm c2 = ChildJvm.run(DeltaNetHashes.class, "C2", bits, 20_000, 300, "-Xbatch", "-XX:+PrintCompilation",
                "-XX:CompileCommand=quiet", "-XX:CompileCommand=dontinline,dev.moe4j.kernels.simd.VectorKernels::*");
        // 2 providers × 8 results
        assertEquals(2 * 8, interpreted.hashes().size(), interpreted.output());
        List<String> compiled = c2.c2Compiled().stream().filter(method -> method.startsWith("dev.moe4j.kernels.simd."))
                .toList();
        // a kernel may be inlined into its entry point, so either name counts
        Map<String, String> kernels = Map.of("DeltaNetKernels::step", "VectorKernels::gatedDeltaStep",
                "DeltaNetKernels::chunked", "VectorKernels::gatedDeltaChunked",
                "DeltaNetKernels::causalConv1dSilu", "VectorKernels::causalConv1dSilu",
                "DeltaNetKernels::l2Normalize", "VectorKernels::l2Normalize",
                "DeltaNetKernels::gatedRmsNorm", "VectorKernels::gatedRmsNorm");
        kernels.forEach((kernel, entry) -> assertTrue(
                compiled.stream().anyMatch(method -> method.endsWith(kernel) || method.endsWith(entry)),
                "the warm-up did not get " + kernel + " compiled by C2: " + compiled));
        assertEquals(String.join("\n", interpreted.hashes()), String.join("\n", c1.hashes()), "interpreter vs C1");
        assertEquals(String.join("\n", interpreted.hashes()), String.join("\n", c2.hashes()), "interpreter vs C2");
        // the delta rule and the window keep the specification's operations: equal hashes across providers
        for (ChildJvm run : List.of(interpreted, c2)) {
            Map<String, List<String>> byResult = new TreeMap<>();
            for (String line : run.hashes()) {
                String[] parts = line.split(" ");
                byResult.computeIfAbsent(parts[2], name -> new ArrayList<>()).add(parts[3]);
            }
            for (String result : List.of("step", "step-state", "chunked", "chunked-state", "conv-window")) {
                List<String> hashes = byResult.get(result);
                assertEquals(2, hashes.size(), result);
                assertEquals(hashes.get(0), hashes.get(1), run.mode() + ": scalar vs vector " + result);
            }
        }
    }
}
