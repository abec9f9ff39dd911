package io.p2vkit.hv.emu;

/**
 * An exception the guest CPU raises (#DE, #UD, #GP, #PF...). Thrown by any handler, caught once
 * in the run loop, which rolls EIP back to the faulting instruction and delivers the vector.
 * Carries no Java stack trace: faults are guest events, not host errors.
 */
final class CpuFault extends RuntimeException {

    static final int DE = 0;
    static final int DB = 1;
    static final int BP = 3;
    static final int OF = 4;
    static final int BR = 5;
    static final int UD = 6;
    static final int NM = 7;
    static final int DF = 8;
    static final int TS = 10;
    static final int NP = 11;
    static final int SS = 12;
    static final int GP = 13;
    static final int PF = 14;
    static final int MF = 16;
    static final int XM = 19;

    final int vector;
    final int errorCode;
    final boolean hasErrorCode;

    private CpuFault(int vector, int errorCode, boolean hasErrorCode) {
        super(null, null, false, false);
        this.vector = vector;
        this.errorCode = errorCode;
        this.hasErrorCode = hasErrorCode;
    }

    static CpuFault of(int vector) {
        return new CpuFault(vector, 0, false);
    }

    static CpuFault withCode(int vector, int errorCode) {
        return new CpuFault(vector, errorCode, true);
    }

    static CpuFault gp(int errorCode) {
        return withCode(GP, errorCode);
    }

    static CpuFault ud() {
        return of(UD);
    }

    @Override
    public String getMessage() {
        return "vector " + vector + (hasErrorCode ? " error 0x" + Integer.toHexString(errorCode) : "");
    }
}
