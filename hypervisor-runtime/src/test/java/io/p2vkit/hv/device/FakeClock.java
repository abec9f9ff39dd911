package io.p2vkit.hv.device;

/** A clock the test moves by hand. */
final class FakeClock implements Clock {

    long now = 1_000_000_000L;

    @Override
    public long nanos() {
        return now;
    }

    void advance(long nanos) {
        now += nanos;
    }
}
