package io.backupkit.internal.repo;

import io.backupkit.internal.crypto.Sealer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Packs filled in any way BlobWriter fills them (segments, a new array, a used buffer still holding old
 * bytes; blobs sealed in place or added sealed, as the lanes' merge does) and merged in any order are byte
 * for byte the packs filled and merged in new arrays, and every blob opens at the offset its entry records.
 */
class PackWriterModesTest {
    /** A blob: its id, its payload, and whether it goes in sealed ({@link PackWriter#add}) or is sealed in place. */
    private record B(byte[] id, byte[] payload, boolean viaAdd) { }

    /** A pack in segments (its array with old bytes past the pack), in a used buffer, or in a new array. */
    private static PackWriter make(boolean seg, int expected, Random r) {
        if (seg) {
            return PackWriter.inSegments(expected, n -> {
                byte[] a = new byte[n + r.nextInt(3)];
                r.nextBytes(a);
                return a;
            });
        }
        if (r.nextBoolean()) {
            byte[] used = new byte[r.nextInt(4 << 20) + 1];
            r.nextBytes(used);
            return new PackWriter(used, expected);
        }
        return new PackWriter(1 << 20, expected);
    }

    private static void put(PackWriter w, Sealer s, B b) {
        if (b.viaAdd) {
            byte[] sealed = new byte[b.payload.length + s.overhead() + 10];
            int n = s.seal(b.payload, 0, b.payload.length, b.id, sealed, 5);
            w.add(BlobId.of(b.id), sealed, 5, n, b.payload.length);
        } else {
            w.seal(BlobId.of(b.id), s, b.payload, 0, b.payload.length, b.payload.length);
        }
    }

    @ParameterizedTest(name = "seeds from {0}")
    @ValueSource(longs = {0, 1000, 2000, 3000})
    void packsFilledAndMergedInAnyMode_areByteForByteThePacksInNewArrays(long from) {
        Sealer s = Sealer.checksumOnly();
        for (long seed = from; seed < from + 12; seed++) {
            Random r = new Random(seed);
            int expected = (16 << 20) + (2 << 20) + 64 * 1024;
            int packs = 1 + r.nextInt(4);
            List<List<B>> content = new ArrayList<>();
            for (int p = 0; p < packs; p++) {
                List<B> bl = new ArrayList<>();
                int target = r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(r.nextBoolean() ? 9 << 20 : 3 << 20);
                int kind = r.nextInt(4);
                int size = 0;
                while (size < target) {
                    int len;
                    switch (kind) {
                        case 0 -> len = 1 + r.nextInt(64);
                        case 1 -> len = (1 << 20) - s.overhead() - r.nextInt(3);
                        case 2 -> len = 1 + r.nextInt(3 << 20);
                        default -> len = r.nextBoolean() ? (512 << 10) + r.nextInt(100) : 1 + r.nextInt(200000);
                    }
                    if (r.nextInt(50) == 0) {
                        len = (8 << 20) + r.nextInt(2 << 20);
                    }
                    byte[] id = new byte[BlobId.BYTES];
                    r.nextBytes(id);
                    byte[] pl = new byte[len];
                    r.nextBytes(pl);
                    bl.add(new B(id, pl, r.nextInt(3) == 0));
                    size += len + s.overhead();
                }
                content.add(bl);
            }
            boolean[] segMode = new boolean[packs];
            for (int p = 0; p < packs; p++) {
                segMode[p] = r.nextBoolean();
            }
            // the reference: every pack in a new array
            PackWriter ref = null;
            PackWriter test = null;
            for (int p = 0; p < packs; p++) {
                PackWriter a = new PackWriter(1 << 20, expected);
                PackWriter t = make(segMode[p], expected, r);
                for (B b : content.get(p)) {
                    put(a, s, b);
                    put(t, s, b);
                }
                if (ref == null) {
                    ref = a;
                    test = t;
                } else {
                    ref.appendAll(a);
                    test.appendAll(t);
                }
            }
            PackWriter.Finished fa = ref.finish(s);
            PackWriter.Finished fb = test.finish(s);
            assertEquals(fa.entry(), fb.entry(), "seed " + seed);
            assertArrayEquals(Arrays.copyOf(fa.bytes(), fa.length()), Arrays.copyOf(fb.bytes(), fb.length()), "seed " + seed);
            // also: every blob opens at its recorded offset
            byte[] packBytes = Arrays.copyOf(fb.bytes(), fb.length());
            assertEquals(fb.entry().blobs(), PackWriter.readTrailer(fb.entry().pack(), packBytes, s), "seed " + seed);
            for (PackEntry.Blob e : fb.entry().blobs()) {
                assertTrue(s.open(packBytes, e.offset(), e.length(), e.id().bytes()).isPresent(), "seed " + seed + ": blob at " + e.offset());
            }
        }
    }
}
