package io.p2vkit.agent.capture;

import io.p2vkit.image.io.OrderedPipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The content digest of a captured disk: SHA-256 over the SHA-256 of each 1 MiB piece (the last
 * one may be shorter). Pieces are hashed on all cores while the copy goes on, pieces of zeros —
 * most of a disk — cost nothing, and anyone can recompute it from a raw copy with coreutils:
 * {@code split -b 1M --filter='sha256sum | head -c 64' disk.raw | xxd -r -p | sha256sum}.
 */
public final class TreeDigest implements AutoCloseable {

    public static final int PIECE = 1 << 20;
    public static final String NAME = "sha256-of-1MiB-sha256s";
    private static final byte[] ZERO_PIECE_HASH = sha256().digest(new byte[PIECE]);

    private final MessageDigest top = sha256();
    private final OrderedPipeline<byte[]> pieces = OrderedPipeline.onAllCores(top::update);
    private byte[] piece = new byte[PIECE];
    private int pieceFill;
    private long total;

    /** Adds {@code length} zero bytes; whole zero pieces are not hashed again. */
    public void zeros(long length) {
        long left = length;
        while (left > 0) {
            if (pieceFill == 0 && left >= PIECE) {
                submitDone(ZERO_PIECE_HASH);
                left -= PIECE;
                total += PIECE;
                continue;
            }
            int n = (int) Math.min(left, PIECE - pieceFill);
            java.util.Arrays.fill(piece, pieceFill, pieceFill + n, (byte) 0);
            advance(n);
            left -= n;
        }
    }

    /** Adds the bytes of {@code data} from its position to its limit. */
    public void data(ByteBuffer data) {
        ByteBuffer b = data.duplicate();
        while (b.hasRemaining()) {
            int n = Math.min(b.remaining(), PIECE - pieceFill);
            b.get(piece, pieceFill, n);
            advance(n);
        }
    }

    private void advance(int n) {
        pieceFill += n;
        total += n;
        if (pieceFill == PIECE) {
            submitPiece(piece, PIECE);
            piece = new byte[PIECE];
            pieceFill = 0;
        }
    }

    private void submitPiece(byte[] bytes, int length) {
        try {
            pieces.submit(() -> {
                MessageDigest md = sha256();
                md.update(bytes, 0, length);
                return md.digest();
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void submitDone(byte[] hash) {
        try {
            pieces.submit(() -> hash);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Finishes and returns the hex digest. */
    public String hex() {
        if (pieceFill > 0) {
            submitPiece(piece, pieceFill);
            pieceFill = 0;
        }
        try {
            pieces.finish();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return HexFormat.of().formatHex(top.digest());
    }

    public long bytes() {
        return total;
    }

    @Override
    public void close() {
        pieces.close();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
