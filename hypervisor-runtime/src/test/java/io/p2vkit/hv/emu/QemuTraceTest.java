package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The QEMU log parser of the lockstep, on lines captured from QEMU 7.2 booting SeaBIOS. */
class QemuTraceTest {

    /**
     * Two register dumps from a real log with the accesses QEMU printed around them (the second
     * with a few fields changed, so that each is seen to land in its own place).
     */
    static final String CAPTURED = """
            memory_region_ops_write cpu -1 mr 0x559640bf7de0 addr 0xfee00000 value 0x0 size 4 name 'apic-msi'
            memory_region_ops_write cpu 0 mr 0x559641392430 addr 0x70 value 0x8f size 1 name 'rtc-index'
            EAX=0000008f EBX=00000000 ECX=00000000 EDX=000efbbf
            ESI=00000000 EDI=00000000 EBP=00000000 ESP=00007000
            EIP=0000ec18 EFL=00000046 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=0
            ES =0000 00000000 0000ffff 00009300
            CS =f000 000f0000 0000ffff 00009b00
            SS =0000 00000000 0000ffff 00009300
            DS =0000 00000000 0000ffff 00009300
            FS =0000 00000000 0000ffff 00009300
            GS =0000 00000000 0000ffff 00009300
            LDT=0000 00000000 0000ffff 00008200
            TR =0000 00000000 0000ffff 00008b00
            GDT=     00000000 0000ffff
            IDT=     00000000 0000ffff
            CR0=60000010 CR2=00000000 CR3=00000000 CR4=00000000
            DR0=0000000000000000 DR1=0000000000000000 DR2=0000000000000000 DR3=0000000000000000 \s
            DR6=00000000ffff0ff0 DR7=0000000000000400
            CCS=00000044 CCD=00000000 CCO=CLR
            EFER=0000000000000000
            memory_region_ops_read cpu 0 mr 0x559641392320 addr 0x71 value 0x0 size 1 name 'rtc'
            memory_region_ops_read cpu 0 mr 0x55b1ea5e4800 addr 0x37a value 0xffffffffffffffff size 1 name 'io'
            Servicing hardware INT=0x08
            EAX=00000000 EBX=00000001 ECX=00000002 EDX=000efbbf
            ESI=00000003 EDI=00000004 EBP=00000005 ESP=00006ffa
            EIP=0000fea5 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=1
            ES =0000 00000000 0000ffff 00009300
            CS =f000 000f0000 0000ffff 00009b00
            SS =0000 00000000 0000ffff 00009300
            DS =0040 00000400 000fffff 00c09300
            FS =0000 00000000 0000ffff 00009300
            GS =0000 00000000 0000ffff 00009300
            LDT=0000 00000000 0000ffff 00008200
            TR =0000 00000000 0000ffff 00008b00
            GDT=     000f6c00 00000037
            IDT=     00000000 0000ffff
            CR0=60000011 CR2=00001234 CR3=00005000 CR4=00000010
            DR0=0000000000000000 DR1=0000000000000000 DR2=0000000000000000 DR3=0000000000000000 \s
            DR6=00000000ffff0ff0 DR7=0000000000000400
            CCS=00000044 CCD=00000000 CCO=CLR
            EFER=0000000000000000
            """;

    private static QemuTrace trace(String text) {
        return new QemuTrace(new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void readsRegistersSegmentsAndControlRegisterOfEachDump() throws IOException {
        QemuTrace t = trace(CAPTURED);
        QemuTrace.State first = t.next();
        assertEquals(0x8F, first.regs()[Cpu.EAX]);
        assertEquals(0xEFBBF, first.regs()[Cpu.EDX]);
        assertEquals(0x7000, first.regs()[Cpu.ESP]);
        assertEquals(0xEC18, first.eip());
        assertEquals(0x46, first.eflags());
        assertEquals(0xF000, first.sel()[Cpu.CS]);
        assertEquals(0xF0000, first.base()[Cpu.CS]);
        assertEquals(0xFFFF, first.limit()[Cpu.CS]);
        assertEquals(0x9B00, first.flags()[Cpu.CS]);
        assertEquals(0x9300, first.flags()[Cpu.SS]);
        assertEquals(0x60000010, first.cr0());
        assertEquals(0xFFFF, first.tables()[QemuTrace.IDT_LIMIT]);
        assertFalse(first.halted());
        assertEquals(-1, first.interruptBefore());

        QemuTrace.State second = t.next();
        assertEquals(1, second.regs()[Cpu.EBX]);
        assertEquals(2, second.regs()[Cpu.ECX]);
        assertEquals(3, second.regs()[Cpu.ESI]);
        assertEquals(4, second.regs()[Cpu.EDI]);
        assertEquals(5, second.regs()[Cpu.EBP]);
        assertEquals(0x40, second.sel()[Cpu.DS]);
        assertEquals(0x400, second.base()[Cpu.DS]);
        assertEquals(0x60000011, second.cr0());
        assertEquals(0x1234, second.cr()[2]);
        assertEquals(0x5000, second.cr()[3]);
        assertEquals(0x10, second.cr()[4]);
        assertEquals(0xF6C00, second.tables()[QemuTrace.GDT_BASE]);
        assertEquals(0x37, second.tables()[QemuTrace.GDT_LIMIT]);
        assertEquals(0xFFFFF, second.limit()[Cpu.DS]);
        assertEquals(0xC09300, second.flags()[Cpu.DS]);
        assertTrue(second.halted());
        assertFalse(second.sameRegisters(first));
        assertNull(t.next());
    }

    @Test
    void queuesTheVcpusDeviceAccessesInOrderAndMasksValuesToTheirSize() throws IOException {
        QemuTrace t = trace(CAPTURED);
        t.next();
        // The machine's own write at reset (cpu -1) is no instruction's.
        assertEquals(new QemuTrace.Access(true, 0x70, 1, 0x8F, "rtc-index"), t.accesses().poll());
        assertTrue(t.accesses().isEmpty());
        t.next();
        assertEquals(new QemuTrace.Access(false, 0x71, 1, 0, "rtc"), t.accesses().poll());
        assertEquals(new QemuTrace.Access(false, 0x37A, 1, 0xFF, "io"), t.accesses().poll());
    }

    @Test
    void aHardwareInterruptIsReportedWithTheDumpAfterIt() throws IOException {
        QemuTrace t = trace(CAPTURED);
        t.next();
        assertEquals(8, t.next().interruptBefore());
        assertEquals(1, t.interrupts());
    }

    @Test
    void aRepeatedDumpHasTheSameRegisters() throws IOException {
        String dump = CAPTURED.substring(CAPTURED.indexOf("EAX=0000008f"), CAPTURED.indexOf("memory_region_ops_read"));
        QemuTrace t = trace(dump + dump);
        assertTrue(t.next().sameRegisters(t.next()));
    }

    @Test
    void theDumpOfAProtectedModeInterruptRecordIsNotAnInstruction() throws IOException {
        String second = CAPTURED.substring(CAPTURED.indexOf("EAX=00000000"));
        String record = "     0: v=0d e=0000 i=0 cpl=0 IP=0008:000e9681 pc=000e9681 SP=0010:00006f00 env->regs[R_EAX]=00000000\n";
        QemuTrace t = trace(record + second + second.replace("EIP=0000fea5", "EIP=0000fea7"));
        assertEquals(0xFEA7, t.next().eip());
    }

    @Test
    void anUnknownLineStopsTheReplayRatherThanBeingDropped() {
        QemuTrace t = trace("SMM: enter\n" + CAPTURED);
        IllegalStateException e = assertThrows(IllegalStateException.class, t::next);
        assertTrue(e.getMessage().contains("SMM: enter"), e.getMessage());
    }

    @Test
    void aLogCutInsideADumpIsAnError() {
        QemuTrace t = trace(CAPTURED.substring(0, CAPTURED.indexOf("CR0=60000010")));
        assertThrows(IllegalStateException.class, t::next);
    }
}
