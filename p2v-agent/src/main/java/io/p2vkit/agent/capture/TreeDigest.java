package io.p2vkit.agent.capture;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The content digest of a captured disk: SHA-256 over the SHA-256 of each 1 MiB piece (the last
 * one may be shorter). Pieces of zeros — most of a disk — cost nothing, and anyone can recompute
 * it from a raw copy with coreutils:
 * {@code split -b 1M --filter='sha256sum | head -c 64' disk.raw | xxd -r -p | sha256sum}.
 */
public final class TreeDigest {

    public static final int PIECE = 1 << 20;
    public static final String NAME = "sha256-of-1MiB-sha256s";

    private final MessageDigest top = sha256();
    private final MessageDigest piece = sha256();
    private final byte[] zeroPieceHash;
    private long pieceFill;
    private long total;

    public TreeDigest() {
        MessageDigest z = sha256();
        z.update(new byte[PIECE]);
        zeroPieceHash = z.digest();
    }

    /** Adds {@code length} zero bytes without hashing whole zero pieces again. */
    public void zeros(long length) {
        long left = length;
        while (left > 0) {
            if (pieceFill == 0 && left >= PIECE) {
                top.update(zeroPieceHash);
                left -= PIECE;
                total += PIECE;
                continue;
            }
            int n = (int) Math.min(left, PIECE - pieceFill);
            piece.update(new byte[n]);
            advance(n);
            left -= n;
        }
    }

    /** Adds the bytes of {@code data} from its position to its limit. */
    public void data(ByteBuffer data) {
        ByteBuffer b = data.duplicate();
        while (b.hasRemaining()) {
            int n = (int) Math.min(b.remaining(), PIECE - pieceFill);
            piece.update(b.slice(b.position(), n));
            b.position(b.position() + n);
            advance(n);
        }
    }

    private void advance(int n) {
        pieceFill += n;
        total += n;
        if (pieceFill == PIECE) {
            top.update(piece.digest());
            pieceFill = 0;
        }
    }

    /** Finishes and returns the hex digest. */
    public String hex() {
        if (pieceFill > 0) {
            top.update(piece.digest());
            pieceFill = 0;
        }
        return HexFormat.of().formatHex(top.digest());
    }

    public long bytes() {
        return total;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
