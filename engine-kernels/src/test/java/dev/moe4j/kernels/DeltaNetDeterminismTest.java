package dev.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The Gated DeltaNet kernels give the same bits interpreted, compiled by C1 and compiled by C2, as
 * {@link DeterminismTest} checks for the other kernels (child JVMs running {@link DeltaNetHashes}); and in every
 * state the vector delta rule and convolution window equal the specification's bits.
 */
class DeltaNetDeterminismTest {

    /** A PrintCompilation line of a C2 (tier 4) compilation: id, flags, level, method. */
    private static final Pattern C2_COMPILATION = Pattern.compile("^\\s*\\d+\\s+\\d+\\s+[%sbn! ]*4\\s+(\\S+)");

    private record Run(String mode, List<String> hashes, List<String> c2Compiled, String output) {}

    private static Run runChild(String mode, int bits, int warmUps, String... jvmOptions)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("--add-modules", "jdk.incubator.vector", "-Xshare:auto", "-XX:+UseSerialGC"));
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), DeltaNetHashes.class.getName(),
                Integer.toString(bits), Integer.toString(warmUps)));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(300, TimeUnit.SECONDS), mode + ": child JVM did not finish");
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
        // the provider's entry points stay out of the warm-up loop, so that each kernel is compiled under its name
        Run c2 = runChild("C2", bits, 20_000, "-Xbatch", "-XX:+PrintCompilation",
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
        for (Run run : List.of(interpreted, c2)) {
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
