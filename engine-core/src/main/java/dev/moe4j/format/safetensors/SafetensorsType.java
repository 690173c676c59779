package dev.moe4j.format.safetensors;

import dev.moe4j.kernels.DType;

/**
 * Element types a safetensors header may name, with their width in bits. Only F32, F16 and BF16 map to a kernel
 * {@link DType}; the others are read and validated (a checkpoint may carry an integer buffer) but cannot be used as
 * weights.
 */
public enum SafetensorsType {
    BOOL(8), U8(8), I8(8), F8_E5M2(8), F8_E4M3(8), F8_E8M0(8), F4(4), F6_E2M3(6), F6_E3M2(6),
    I16(16), U16(16), F16(16, DType.F16), BF16(16, DType.BF16),
    I32(32), U32(32), F32(32, DType.F32),
    I64(64), U64(64), F64(64), C64(64);

    private final int bits;
    private final DType dtype;

    SafetensorsType(int bits) {
        this(bits, null);
    }

    SafetensorsType(int bits, DType dtype) {
        this.bits = bits;
        this.dtype = dtype;
    }

    public int bits() {
        return bits;
    }

    /** The kernel type for weights stored in this type, or null when moe4j cannot compute with it. */
    public DType dtype() {
        return dtype;
    }

    /** The type spelled {@code name} in a header, or null if unknown. */
    public static SafetensorsType byName(String name) {
        for (SafetensorsType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
