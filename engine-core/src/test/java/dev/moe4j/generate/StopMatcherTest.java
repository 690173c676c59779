package dev.moe4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopMatcherTest {
    @Test
    void stopSplitAcrossPiecesIsNeverEmitted() {
        StopMatcher m = new StopMatcher(List.of("STOP"));
        StringBuilder out = new StringBuilder();
        for (String piece : new String[] {"hello S", "T", "O", "P and more"}) {
            out.append(m.push(piece));
        }
        assertTrue(m.stopped());
        assertEquals("hello ", out.toString());
        assertEquals("", m.push("later"));
        assertEquals("", m.flush());
    }

    @Test
    void falseStartsAreReleased() {
        StopMatcher m = new StopMatcher(List.of("</end>", "##"));
        StringBuilder out = new StringBuilder();
        out.append(m.push("a </e"));
        assertEquals("a ", out.toString(), "'</e' is held back");
        out.append(m.push("x #"));
        out.append(m.push("y"));
        out.append(m.flush());
        assertFalse(m.stopped());
        assertEquals("a </ex #y", out.toString());
    }

    @Test
    void earliestStopWins() {
        StopMatcher m = new StopMatcher(List.of("bc", "abcd"));
        assertEquals("x", m.push("xabcd"));
        assertTrue(m.stopped());
    }
}
