package dev.moe4j.kernels;

import dev.moe4j.kernels.quant.BlockFormat;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** The plain-Java twin of every kernel: the reference the Vector API kernels are tested against. */
public final class ScalarKernels implements KernelProvider {

    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {}

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    @Override
    public void axpy(float[] y, int yOff, float alpha, float[] x, int xOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    @Override
    public void scale(float[] x, int off, float alpha, int n) {
        for (int i = 0; i < n; i++) {
            x[off + i] *= alpha;
        }
    }

    @Override
    public void rmsNorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        float sumSq = 0f;
        for (int i = 0; i < n; i++) {
            sumSq += x[xOff + i] * x[xOff + i];
        }
        float inv = (float) (1.0 / Math.sqrt(sumSq / n + eps));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = weight[i] * (x[xOff + i] * inv);
        }
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    @Override
    public void siluMul(float[] gate, int gateOff, float[] up, int upOff, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[gateOff + i];
            gate[gateOff + i] = g / (1f + (float) Math.exp(-g)) * up[upOff + i];
        }
    }

    @Override
    public void rope(float[] x, int off, int nHeads, int headDim, float[] cos, float[] sin) {
        int half = headDim / 2;
        for (int head = 0; head < nHeads; head++) {
            int base = off + head * headDim;
            for (int i = 0; i < half; i++) {
                float x0 = x[base + i];
                float x1 = x[base + i + half];
                x[base + i] = x0 * cos[i] - x1 * sin[i];
                x[base + i + half] = x1 * cos[i] + x0 * sin[i];
            }
        }
    }

    @Override
    public void attend(float[] out, int outOff, float[] q, int qOff, float[] keys, float[] values, int[] rows,
            int headOff, int len, int n, float scale, float[] scores) {
        for (int p = 0; p < len; p++) {
            scores[p] = dot(q, qOff, keys, rows[p] + headOff, n) * scale;
        }
        softmax(scores, 0, len);
        for (int c = 0; c < n; c++) {
            float sum = 0;
            for (int p = 0; p < len; p++) {
                sum += scores[p] * values[rows[p] + headOff + c];
            }
            out[outOff + c] = sum;
        }
    }

    @Override
    public void attend(float[] out, int[] outOffs, float[] q, int[] qOffs, int[] lens, int count, float[] keys,
            float[] values, int[] rows, int headOff, int n, float scale, float[] scores) {
        for (int i = 0; i < count; i++) {
            attend(out, outOffs[i], q, qOffs[i], keys, values, rows, headOff, lens[i], n, scale, scores);
        }
    }

    @Override
    public void attendInColumnOrder(float[] out, int[] outOffs, float[] q, int[] qOffs, int[] lens, int count,
            float[] keys, float[] values, int[] rows, int headOff, int n, float scale, float[] scores) {
        for (int i = 0; i < count; i++) {
            int len = lens[i];
            for (int p = 0; p < len; p++) {
                float sum = 0;
                for (int c = 0; c < n; c++) {
                    sum = Math.fma(q[qOffs[i] + c], keys[rows[p] + headOff + c], sum);
                }
                scores[p] = sum * scale;
            }
            softmax(scores, 0, len);
            for (int c = 0; c < n; c++) {
                float sum = 0;
                for (int p = 0; p < len; p++) {
                    sum = Math.fma(scores[p], values[rows[p] + headOff + c], sum);
                }
                out[outOffs[i] + c] = sum;
            }
        }
    }

    @Override
    public void dequantizeRow(Matrix w, int row, float[] out, int outOff) {
        widenRow(w, row, out, outOff);
    }

    /** Shared by both providers: row {@code row} of any storage type, widened to F32. */
    static void widenRow(Matrix w, int row, float[] out, int outOff) {
        MemorySegment data = w.data();
        long base = w.blockOffset(row, 0);
        int cols = w.cols();
        switch (w.type()) {
            case F32 -> MemorySegment.copy(data, LE_FLOAT, base, out, outOff, cols);
            case F16 -> {
                for (int c = 0; c < cols; c++) {
                    out[outOff + c] = Float.float16ToFloat(data.get(LE_SHORT, base + 2L * c));
                }
            }
            case BF16 -> {
                for (int c = 0; c < cols; c++) {
                    out[outOff + c] = Float.intBitsToFloat(data.get(LE_SHORT, base + 2L * c) << 16);
                }
            }
            default -> {
                BlockFormat format = BlockFormat.of(w.type());
                int blockSize = w.type().blockSize();
                long stride = w.blockStride(row);
                for (int block = 0; block < cols / blockSize; block++) {
                    format.dequantize(data, base + block * stride, out, outOff + block * blockSize);
                }
            }
        }
    }

    @Override
    public void matmul(float[] out, Matrix w, float[] x, int nTokens, int rowStart, int rowEnd) {
        if (w.roundsActivations(nTokens)) {
            if (w.rounded() instanceof Q4_KRounded) {
                Q4_KRounded.matvecScalar(out, w, x, nTokens, rowStart, rowEnd);
            } else {
                Q4_0Rounded.matvecScalar(out, w, x, nTokens, rowStart, rowEnd);
            }
            return;
        }
        if (w.sumsInColumnOrder(nTokens)) {
            Q4_0Rounded.matmulScalar(out, w, x, nTokens, rowStart, rowEnd);
            return;
        }
        int cols = w.cols();
        int rows = w.rows();
        float[] row = new float[cols];
        for (int r = rowStart; r < rowEnd; r++) {
            widenRow(w, r, row, 0);
            for (int t = 0; t < nTokens; t++) {
                out[t * rows + r] = dot(row, 0, x, t * cols, cols);
            }
        }
    }
}
