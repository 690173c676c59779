package dev.moe4j.kernels.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The tile's panel size comes from the L2 size Linux reports, read defensively. */
class TileMatmulPanelTest {

    @Test
    void cacheSizesParseAsLinuxWritesThem() {
        assertEquals(2048L << 10, TileMatmul.parseCacheSize("2048K", -1));
        assertEquals(1280L << 10, TileMatmul.parseCacheSize("1280K", -1));
        assertEquals(1L << 20, TileMatmul.parseCacheSize("1M", -1));
        assertEquals(4096, TileMatmul.parseCacheSize("4096", -1));
        assertEquals(-1, TileMatmul.parseCacheSize("", -1));
        assertEquals(-1, TileMatmul.parseCacheSize("lots", -1));
        assertEquals(-1, TileMatmul.parseCacheSize("0K", -1));
    }

    @Test
    void panelIsHalfTheL2WithinBounds() {
        long expected = Math.clamp(TileMatmul.l2Bytes() / 2, 256 << 10, 1 << 20);
        assertEquals(expected, TileMatmul.PANEL_BYTES);
        assertTrue(TileMatmul.panelRows(1024) % 6 == 0 && TileMatmul.panelRows(1 << 20) == 6);
    }
}
