/**
 * moe4j's compute kernels: weight matrices and block formats, scalar kernels, and the Vector API kernels chosen at
 * run time when {@code jdk.incubator.vector} is in the module graph ({@code --add-modules jdk.incubator.vector}).
 */
module dev.moe4j.kernels {
    requires static jdk.incubator.vector;

    exports dev.moe4j.kernels;
    exports dev.moe4j.kernels.parallel;
    exports dev.moe4j.kernels.quant;
    exports dev.moe4j.kernels.simd;
}
