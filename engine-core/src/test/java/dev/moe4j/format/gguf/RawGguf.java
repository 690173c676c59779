package dev.moe4j.format.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Builds GGUF bytes field by field, so tests can write files that are wrong in exactly one way. */
final class RawGguf {
    int magic = 0x46554747;
    int version = 3;
    Long tensorCountOverride;
    Long kvCountOverride;
    final List<byte[]> kvs = new ArrayList<>();
    final List<byte[]> tensorInfos = new ArrayList<>();
    byte[] data = new byte[0];
    int alignment = 32;

    RawGguf kv(String key, int type, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(string(key));
        out.writeBytes(le(4, type));
        out.writeBytes(payload);
        kvs.add(out.toByteArray());
        return this;
    }

    RawGguf kvString(String key, String value) {
        return kv(key, GgufMetadata.STRING, string(value));
    }

    RawGguf kvU32(String key, int value) {
        return kv(key, GgufMetadata.UINT32, le(4, value));
    }

    RawGguf tensor(String name, long[] dims, int type, long offset) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(string(name));
        out.writeBytes(le(4, dims.length));
        for (long d : dims) {
            out.writeBytes(le(8, d));
        }
        out.writeBytes(le(4, type));
        out.writeBytes(le(8, offset));
        tensorInfos.add(out.toByteArray());
        return this;
    }

    byte[] build() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(le(4, magic));
        out.writeBytes(le(4, version));
        out.writeBytes(le(8, tensorCountOverride != null ? tensorCountOverride : tensorInfos.size()));
        out.writeBytes(le(8, kvCountOverride != null ? kvCountOverride : kvs.size()));
        kvs.forEach(out::writeBytes);
        tensorInfos.forEach(out::writeBytes);
        while (out.size() % alignment != 0) {
            out.write(0);
        }
        out.writeBytes(data);
        return out.toByteArray();
    }

    static byte[] string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return concat(le(8, b.length), b);
    }

    static byte[] le(int width, long v) {
        ByteBuffer buf = ByteBuffer.allocate(width).order(ByteOrder.LITTLE_ENDIAN);
        switch (width) {
            case 1 -> buf.put((byte) v);
            case 2 -> buf.putShort((short) v);
            case 4 -> buf.putInt((int) v);
            default -> buf.putLong(v);
        }
        return buf.array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
