package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/** Executes one decoded instruction; EIP already points past it. */
@FunctionalInterface
interface Handler {

    void exec(Cpu cpu, DecodedInsn d);
}
