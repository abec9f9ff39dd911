package io.p2vkit.hv.device;

/** A device asking the machine to reset or power off (i8042 0xFE, port 0x92, PIIX 0xCF9). */
@FunctionalInterface
public interface ResetSignal {

    void request(String why);
}
