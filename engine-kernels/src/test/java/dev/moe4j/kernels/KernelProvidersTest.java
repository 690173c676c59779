package dev.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** How a JVM chooses its kernels: each case starts a child JVM, since the choice is made once per JVM. */
class KernelProvidersTest {

    private record Run(int exitCode, String stdout, String stderr) {}

    private static Run runChild(String... jvmOptions) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // no JIT tiers beyond C1: the child only starts up
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-Xshare:auto");
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), PrintPreferredKernels.class.getName()));
        Process process = new ProcessBuilder(command).start();
        process.getOutputStream().close();
        byte[] stdout = process.getInputStream().readAllBytes();
        byte[] stderr = process.getErrorStream().readAllBytes();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        return new Run(process.exitValue(), new String(stdout, StandardCharsets.UTF_8).trim(),
                new String(stderr, StandardCharsets.UTF_8));
    }

    @Test
    void withoutTheVectorModuleFallsBackToScalarAndSaysHowToEnableIt() throws Exception {
        Run run = runChild();
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("scalar", run.stdout());
        assertTrue(run.stderr().contains("--add-modules jdk.incubator.vector"), run.stderr());
        assertFalse(run.stderr().contains("NoClassDefFoundError"), run.stderr());
    }

    @Test
    void scalarCanBeForced() throws Exception {
        Run run = runChild("--add-modules", "jdk.incubator.vector", "-Dmoe4j.kernels=scalar");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("scalar", run.stdout());
    }

    @Test
    void withTheVectorModuleRunsTheVectorKernelsAtAForcedWidth() throws Exception {
        Run run = runChild("--add-modules", "jdk.incubator.vector", "-Dmoe4j.vector.bits=256");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("vector(256-bit)", run.stdout());
    }

    @Test
    void anUnsupportedWidthIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelProviders.vector(96));
        assertTrue(e.getMessage().contains("96"), e.getMessage());
    }
}
