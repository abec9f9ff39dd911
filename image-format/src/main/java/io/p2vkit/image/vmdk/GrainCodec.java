package io.p2vkit.image.vmdk;

import io.p2vkit.image.ImageFormatException;

import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * Grain compression: each compressed grain is one zlib stream (RFC 1950, deflate inside), as
 * VMware's tools, qemu and VirtualBox write it (spec, "Compressed Grains").
 */
final class GrainCodec {

    private GrainCodec() {
    }

    /** The most compressed bytes we accept for one grain: deflate never grows data by this much. */
    static int maxCompressed(int grainBytes) {
        return grainBytes + grainBytes / 8 + 1024;
    }

    /**
     * Inflates {@code in[0, len)} into {@code out} (one grain); what the stream does not cover reads
     * as zeros (a short last grain). Fails on a damaged stream or one that inflates to more than a
     * grain. Bounded: the inflater never produces more than {@code out.length} bytes.
     */
    static void inflate(byte[] in, int len, byte[] out, long fileOffset) throws ImageFormatException {
        Inflater inf = new Inflater();
        try {
            inf.setInput(in, 0, len);
            int n = 0;
            while (n < out.length && !inf.finished()) {
                int k = inf.inflate(out, n, out.length - n);
                if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    throw new ImageFormatException("VMDK compressed grain is cut short", fileOffset);
                }
                n += k;
            }
            if (!inf.finished()) {
                byte[] probe = new byte[1];
                if (inf.inflate(probe) > 0 || !inf.finished()) {
                    throw new ImageFormatException("VMDK compressed grain inflates to more than a grain", fileOffset);
                }
            }
            java.util.Arrays.fill(out, n, out.length, (byte) 0);
        } catch (DataFormatException e) {
            throw new ImageFormatException("VMDK compressed grain is damaged: " + e.getMessage(), fileOffset);
        } finally {
            inf.end();
        }
    }

    /** Shannon entropy above which a grain is stored rather than deflated (random data is ~8). */
    private static final double STORE_ENTROPY_BITS = 7.9;

    /**
     * Whether {@code in[0, len)} looks like random or already-compressed data, judged from the byte
     * histogram of every fourth byte: deflating such a grain costs CPU and saves nothing, so it is
     * written as stored deflate blocks instead (still a valid zlib stream for every reader).
     */
    static boolean looksIncompressible(byte[] in, int len) {
        int[] counts = new int[256];
        int samples = 0;
        for (int i = 0; i < len; i += 4) {
            counts[in[i] & 0xFF]++;
            samples++;
        }
        if (samples < 1024) {
            return false;
        }
        double bits = 0;
        for (int c : counts) {
            if (c != 0) {
                double p = (double) c / samples;
                bits -= p * Math.log(p);
            }
        }
        return bits / Math.log(2) > STORE_ENTROPY_BITS;
    }

    /** Compresses {@code in[0, len)} into {@code out} after {@code headerRoom} bytes; returns the deflated size. */
    static int deflate(Deflater d, byte[] in, int len, byte[] out, int headerRoom) {
        d.reset();
        d.setInput(in, 0, len);
        d.finish();
        int n = 0;
        while (!d.finished()) {
            n += d.deflate(out, headerRoom + n, out.length - headerRoom - n);
            if (headerRoom + n >= out.length && !d.finished()) {
                throw new IllegalStateException("deflate output larger than its bound");
            }
        }
        return n;
    }
}
