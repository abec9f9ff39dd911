package io.p2vkit.image.qcow2;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Refcount tables and blocks (spec "Host cluster management"): a table of block offsets, each
 * block an array of {@code refcount_bits}-wide big-endian counts, one per host cluster.
 *
 * <p>Our writer never updates refcounts while data is written. At close it counts every
 * reference ({@link Qcow2ReferenceWalker}) and writes a fresh table and blocks after the last
 * used cluster, covering themselves too; clusters of any previous refcount structure drop to
 * zero (free, not leaked). The image is thus consistent exactly when the header is rewritten.
 */
final class Qcow2Refcounts {

    /** Host clusters counted per window pass: bounds memory to 4 MiB of counts. */
    static final int WINDOW_CLUSTERS = 1 << 20;

    private Qcow2Refcounts() {
    }

    /** Counts one refcount block holds. */
    static long entriesPerBlock(int clusterBits, int refcountOrder) {
        return (8L << clusterBits) >>> refcountOrder;
    }

    /** The largest count {@code 2^order} bits can hold. */
    static long maxRefcount(int refcountOrder) {
        int bits = 1 << refcountOrder;
        return bits == 64 ? Long.MAX_VALUE : (1L << bits) - 1;
    }

    static long get(ByteBuffer block, long index, int order) {
        int bits = 1 << order;
        if (bits >= 8) {
            int bytes = bits / 8;
            int pos = (int) (index * bytes);
            return switch (bytes) {
                case 1 -> block.get(pos) & 0xFFL;
                case 2 -> block.getShort(pos) & 0xFFFFL;
                case 4 -> block.getInt(pos) & 0xFFFF_FFFFL;
                default -> block.getLong(pos);
            };
        }
        // Sub-byte widths: entry i sits at bit (i * bits) % 8 of byte i * bits / 8, low bits first.
        long bit = index * bits;
        return (block.get((int) (bit >>> 3)) >>> (bit & 7)) & ((1 << bits) - 1);
    }

    static void put(ByteBuffer block, long index, long value, int order) {
        int bits = 1 << order;
        if (bits >= 8) {
            int pos = (int) (index * (bits / 8));
            switch (bits / 8) {
                case 1 -> block.put(pos, (byte) value);
                case 2 -> block.putShort(pos, (short) value);
                case 4 -> block.putInt(pos, (int) value);
                default -> block.putLong(pos, value);
            }
            return;
        }
        long bit = index * bits;
        int pos = (int) (bit >>> 3);
        int shift = (int) (bit & 7);
        int mask = ((1 << bits) - 1) << shift;
        block.put(pos, (byte) ((block.get(pos) & ~mask) | ((int) (value << shift) & mask)));
    }

    /** Where a new refcount structure goes and how big it is. */
    record Layout(long firstBlock, long blocks, long tableOffset, int tableClusters) {
    }

    /**
     * Plans blocks then table right after {@code usedClusters} clusters, so that the blocks
     * cover every used cluster plus the new structure itself (QEMU's
     * qcow2_refcount_area sizing, solved by iterating to a fixed point).
     */
    static Layout plan(long usedClusters, int clusterBits, int order) throws ImageFormatException {
        long perBlock = entriesPerBlock(clusterBits, order);
        long entriesPerTableCluster = 1L << (clusterBits - 3);
        long blocks = 0;
        long table = 0;
        while (true) {
            long total = usedClusters + blocks + table;
            long needBlocks = (total + perBlock - 1) / perBlock;
            long needTable = Math.max(1, (needBlocks + entriesPerTableCluster - 1) / entriesPerTableCluster);
            if (needBlocks == blocks && needTable == table) {
                break;
            }
            blocks = Math.max(blocks, needBlocks);
            table = Math.max(table, needTable);
        }
        if ((table << clusterBits) > Qcow2Constants.MAX_REFTABLE_BYTES) {
            throw new ImageFormatException("qcow2 refcount table would exceed 8 MiB; use a larger cluster size");
        }
        long firstBlock = usedClusters;
        return new Layout(firstBlock, blocks, (firstBlock + blocks) << clusterBits, (int) table);
    }

    /**
     * Writes a new refcount structure after {@code fileEnd} holding the counts {@code walker}
     * finds, and returns its layout for the header.
     */
    static Layout write(ImageFile file, Qcow2Header h, Qcow2ReferenceWalker walker, long fileEnd)
            throws IOException {
        int cb = h.clusterBits();
        int order = h.refcountOrder();
        long used = (fileEnd + h.clusterSize() - 1) >>> cb;
        Layout layout = plan(used, cb, order);
        long perBlock = entriesPerBlock(cb, order);
        long max = maxRefcount(order);
        long structEnd = layout.firstBlock() + layout.blocks() + layout.tableClusters();
        long blocksPerWindow = Math.max(1, WINDOW_CLUSTERS / perBlock);
        long windowClusters = blocksPerWindow * perBlock;
        ByteBuffer block = ByteBuffer.allocate(h.clusterSize()).order(ByteOrder.BIG_ENDIAN);
        boolean first = true;
        for (long b0 = 0; b0 < layout.blocks(); b0 += blocksPerWindow) {
            long firstCluster = b0 * perBlock;
            int[] counts = new int[(int) Math.min(windowClusters, layout.blocks() * perBlock - firstCluster)];
            walker.count(firstCluster, counts, first);
            first = false;
            for (long c = Math.max(layout.firstBlock(), firstCluster);
                 c < Math.min(structEnd, firstCluster + counts.length); c++) {
                counts[(int) (c - firstCluster)]++;
            }
            for (long b = b0; b < Math.min(layout.blocks(), b0 + blocksPerWindow); b++) {
                block.clear();
                java.util.Arrays.fill(block.array(), (byte) 0);
                for (long i = 0; i < perBlock; i++) {
                    int idx = (int) (b * perBlock + i - firstCluster);
                    if (idx >= counts.length) {
                        break;
                    }
                    if (counts[idx] > max) {
                        throw new ImageFormatException("host cluster " + (b * perBlock + i) + " has "
                                + counts[idx] + " references, more than " + (1 << order) + "-bit refcounts hold");
                    }
                    if (counts[idx] != 0) {
                        put(block, i, counts[idx], order);
                    }
                }
                file.writeFully((layout.firstBlock() + b) << cb, block);
            }
        }
        ByteBuffer table = ByteBuffer.allocate(layout.tableClusters() << cb).order(ByteOrder.BIG_ENDIAN);
        for (long b = 0; b < layout.blocks(); b++) {
            table.putLong((int) (b * 8), (layout.firstBlock() + b) << cb);
        }
        file.writeFully(layout.tableOffset(), table);
        return layout;
    }
}
