package io.p2vkit.hv.device;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;

import static io.p2vkit.hv.device.Serial16550.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Serial16550Test {

    private final RecordingIrq irq = new RecordingIrq();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Serial16550 uart = new Serial16550(irq, out::write);

    @Test
    void transmitsBytesAndThrIsAlwaysEmpty() {
        for (byte b : "hi\n".getBytes()) {
            uart.write(REG_DATA, 1, b);
        }
        assertEquals("hi\n", out.toString());
        assertEquals(LSR_THRE | LSR_TEMT, uart.read(REG_LSR, 1));
    }

    @Test
    void divisorLatchDoesNotTransmit() {
        uart.write(REG_LCR, 1, LCR_DLAB | 0x03);
        uart.write(REG_DATA, 1, 0x01);
        uart.write(REG_IER, 1, 0x00);
        assertEquals(0x01, uart.read(REG_DATA, 1));
        uart.write(REG_LCR, 1, 0x03);
        assertEquals(0, out.size());
    }

    @Test
    void threInterruptRaisesOnEnableAndClearsOnIirRead() {
        uart.write(REG_MCR, 1, MCR_OUT2);
        uart.write(REG_IER, 1, IER_THRE);
        assertTrue(irq.level, "enabling THRE with an empty THR interrupts at once (Linux 8250 probes this)");
        assertEquals(IIR_THRE, uart.read(REG_IIR_FCR, 1) & 0x0F);
        assertFalse(irq.level);
        assertEquals(IIR_NONE, uart.read(REG_IIR_FCR, 1) & 0x0F);
        uart.write(REG_DATA, 1, 'x');
        assertTrue(irq.level, "THR empties again after a write");
    }

    @Test
    void out2GatesTheInterruptLine() {
        uart.write(REG_MCR, 1, 0);
        uart.write(REG_IER, 1, IER_THRE);
        assertFalse(irq.level);
        uart.write(REG_MCR, 1, MCR_OUT2);
        assertTrue(irq.level);
    }

    @Test
    void fifoIdentifiesAs16550A() {
        uart.write(REG_IIR_FCR, 1, FCR_ENABLE);
        assertEquals(IIR_FIFO_ENABLED, uart.read(REG_IIR_FCR, 1) & 0xC0);
        uart.write(REG_IIR_FCR, 1, 0);
        assertEquals(0, uart.read(REG_IIR_FCR, 1) & 0xC0);
    }

    @Test
    void receiveRaisesDataReadyAndOverrunWhenFull() {
        uart.write(REG_IIR_FCR, 1, FCR_ENABLE);
        uart.write(REG_MCR, 1, MCR_OUT2);
        uart.write(REG_IER, 1, IER_RDA | IER_RLS);
        uart.receive("ab".getBytes());
        assertTrue(irq.level);
        assertEquals(IIR_RDA, uart.read(REG_IIR_FCR, 1) & 0x0F);
        assertEquals('a', uart.read(REG_DATA, 1));
        assertEquals('b', uart.read(REG_DATA, 1));
        assertEquals(0, uart.read(REG_LSR, 1) & LSR_DR);
        uart.receive(new byte[Serial16550.RX_CAPACITY + 1]);
        assertEquals(IIR_RLS, uart.read(REG_IIR_FCR, 1) & 0x0F);
        assertEquals(LSR_OE, uart.read(REG_LSR, 1) & LSR_OE);
        assertEquals(0, uart.read(REG_LSR, 1) & LSR_OE, "reading LSR clears the error");
    }

    @Test
    void loopbackEchoesAndMirrorsModemLines() {
        uart.write(REG_MCR, 1, MCR_LOOP | MCR_RTS | MCR_OUT1);
        int msr = uart.read(REG_MSR, 1);
        assertEquals(MSR_CTS | MSR_RI, msr & 0xF0);
        uart.write(REG_DATA, 1, 0x5A);
        assertEquals(0x5A, uart.read(REG_DATA, 1));
        assertEquals(0, out.size(), "loopback output stays inside the chip");
    }

    @Test
    void scratchRegisterAndWrongWidthCounted() {
        uart.write(REG_SCR, 1, 0xA5);
        assertEquals(0xA5, uart.read(REG_SCR, 1));
        uart.read(REG_LSR, 2);
        uart.write(REG_LSR, 1, 0);
        assertEquals(2, uart.missedAccesses());
    }
}
