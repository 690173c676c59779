package dev.moe4j.format.gguf;

import dev.moe4j.api.BadModelFileException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** A bounds-checked little-endian reader over the header of a mapped GGUF file. */
final class GgufCursor {
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String file;
    private final MemorySegment data;
    private long pos;

    GgufCursor(String file, MemorySegment data) {
        this.file = file;
        this.data = data;
    }

    long position() {
        return pos;
    }

    long remaining() {
        return data.byteSize() - pos;
    }

    /** Fails unless {@code n} more bytes exist; {@code what} names the field for the message. */
    void need(long n, String what) {
        if (n < 0 || n > remaining()) {
            throw new BadModelFileException(file + ": truncated header: " + what + " needs " + n
                    + " bytes at offset " + pos + " but the file has " + data.byteSize() + " bytes");
        }
    }

    int u8(String what) {
        need(1, what);
        return data.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
    }

    byte i8(String what) {
        need(1, what);
        return data.get(ValueLayout.JAVA_BYTE, pos++);
    }

    short i16(String what) {
        need(2, what);
        short v = data.get(LE_SHORT, pos);
        pos += 2;
        return v;
    }

    int i32(String what) {
        need(4, what);
        int v = data.get(LE_INT, pos);
        pos += 4;
        return v;
    }

    /** The int32 at an absolute offset already read past. */
    int peekI32(long offset) {
        return data.get(LE_INT, offset);
    }

    long i64(String what) {
        need(8, what);
        long v = data.get(LE_LONG, pos);
        pos += 8;
        return v;
    }

    /** A uint64 count that must also fit the remaining bytes at {@code minBytesEach} bytes per item. */
    long count(String what, long minBytesEach) {
        long n = i64(what);
        if (n < 0 || (minBytesEach > 0 && n > remaining() / minBytesEach)) {
            throw new BadModelFileException(file + ": " + what + " is " + Long.toUnsignedString(n)
                    + ", more than the " + remaining() + " bytes left in the file can hold");
        }
        return n;
    }

    String string(String what) {
        long len = count(what + " (string length)", 1);
        byte[] bytes = new byte[(int) Math.min(len, Integer.MAX_VALUE - 8)];
        if (bytes.length != len) {
            throw new BadModelFileException(file + ": " + what + " string of " + len + " bytes is too long");
        }
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, pos, bytes, 0, bytes.length);
        long start = pos;
        pos += len;
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new BadModelFileException(file + ": " + what + " at offset " + start + " is not valid UTF-8");
        }
    }

    void skip(long n, String what) {
        need(n, what);
        pos += n;
    }
}
