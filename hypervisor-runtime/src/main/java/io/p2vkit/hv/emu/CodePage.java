package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * Decoded instructions of one 4 KiB physical page, indexed by the offset of their first byte.
 * The page is dropped as a whole when the guest writes to it (self-modifying code, a loader
 * copying a new kernel over old code). Instructions crossing the page end are never cached.
 */
final class CodePage {

    final long physPage;
    final DecodedInsn[] insns = new DecodedInsn[4096];

    CodePage(long physPage) {
        this.physPage = physPage;
    }
}
