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

/**
 * A child JVM running a hashing main class in one JIT state, for the determinism tests: the {@code hash …} lines it
 * printed and the methods C2 compiled.
 */
record ChildJvm(String mode, List<String> hashes, List<String> c2Compiled, String output) {

    /** A PrintCompilation line of a C2 (tier 4) compilation: id, flags, level, method. */
    private static final Pattern C2_COMPILATION = Pattern.compile("^\\s*\\d+\\s+\\d+\\s+[%sbn! ]*4\\s+(\\S+)");

    /** Runs {@code main} with arguments (bits, warmUps) under the given JVM options; fails the test if it fails. */
    static ChildJvm run(Class<?> main, String mode, int bits, int warmUps, int timeoutSeconds, String... jvmOptions)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("--add-modules", "jdk.incubator.vector", "-Xshare:auto", "-XX:+UseSerialGC"));
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName(),
                Integer.toString(bits), Integer.toString(warmUps)));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(timeoutSeconds, TimeUnit.SECONDS), mode + ": child JVM did not finish");
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
        return new ChildJvm(mode, hashes, c2Compiled, output);
    }

    /** The machine's preferred width if the kernels support it, else 256. */
    static int width() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        return preferred == 128 || preferred == 256 || preferred == 512 ? preferred : 256;
    }
}
