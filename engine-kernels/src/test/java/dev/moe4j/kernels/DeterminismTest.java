package dev.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The same kernel call gives the same bits in every JVM state: interpreted, compiled by C1, compiled by C2 (whose
 * Vector API intrinsics must agree with the Java fallback the other two run). Each state is a child JVM running
 * {@link KernelHashes}; {@code -Xbatch} makes the JIT compile synchronously, so that after the warm-up the kernels
 * run compiled code.
 */
class DeterminismTest {

    /** A PrintCompilation line of a C2 (tier 4) compilation: id, flags, level, method. */
    private static final Pattern C2_COMPILATION = Pattern.compile("^\\s*\\d+\\s+\\d+\\s+[%sbn! ]*4\\s+(\\S+)");

    private record Run(String mode, List<String> hashes, List<String> c2Compiled, String output) {}

    private static Run runChild(String mode, int bits, int warmUps, String... jvmOptions)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("--add-modules", "jdk.incubator.vector", "-Xshare:auto", "-XX:+UseSerialGC"));
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), KernelHashes.class.getName(),
                Integer.toString(bits), Integer.toString(warmUps)));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), mode + ": child JVM did not finish");
        assertEquals(0, process.exitValue(), mode + ":\n" + output);
        List<String> hashes = new ArrayList<>();
        List<String> c2Compiled = new ArrayList<>();
        for (String line : output.split("\n")) {
            if (line.startsWith("hash ")) {
                hashes.add(line.strip());
            }
            Matcher m = C2_COMPILATION.matcher(line);
            if (m.find()) {
                c2Compiled.add(m.group(1));
            }
        }
        return new Run(mode, hashes, c2Compiled, output);
    }

    /** The machine's preferred width if the kernels support it, else 256. */
    private static int width() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        return preferred == 128 || preferred == 256 || preferred == 512 ? preferred : 256;
    }

    @Test
    void interpreterC1AndC2GiveTheSameBits() throws Exception {
        int bits = width();
        Run interpreted = runChild("interpreter", bits, 0, "-Xint");
        Run c1 = runChild("C1", bits, 300, "-XX:TieredStopAtLevel=1", "-Xbatch");
        // the provider's entry points stay out of the child's hash loop: inlined into it (a race between that loop's
        // compilation and each kernel's own), a kernel ran C2 code under no name of its own and the check below
        // failed now and then; its internals still inline into the entry point as in the engine
        Run c2 = runChild("C2", bits, 20_000, "-Xbatch", "-XX:+PrintCompilation",
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
