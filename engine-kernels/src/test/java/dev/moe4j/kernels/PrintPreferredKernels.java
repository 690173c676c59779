package dev.moe4j.kernels;

/** Prints the name of the provider this JVM chooses: run in a child JVM by {@link KernelProvidersTest}. */
public final class PrintPreferredKernels {

    private PrintPreferredKernels() {}

    public static void main(String[] args) {
        System.out.println(KernelProviders.preferred().name());
    }
}
