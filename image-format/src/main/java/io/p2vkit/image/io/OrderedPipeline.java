package io.p2vkit.image.io;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs CPU-heavy work (compressing grains or clusters) on all cores while handing the results
 * to a sink in submission order, on the submitting thread. At most {@code window} results are in
 * flight, which bounds memory whatever the disk size.
 *
 * @param <T> what each task produces
 */
public final class OrderedPipeline<T> implements AutoCloseable {

    /** Receives results in submission order. */
    @FunctionalInterface
    public interface Sink<T> {
        void accept(T result) throws IOException;
    }

    private final ExecutorService pool;
    private final ArrayDeque<Future<T>> inFlight = new ArrayDeque<>();
    private final int window;
    private final Sink<T> sink;

    public OrderedPipeline(int threads, int window, Sink<T> sink) {
        this.pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "p2v-worker");
            t.setDaemon(true);
            return t;
        });
        this.window = Math.max(1, window);
        this.sink = sink;
    }

    /** A pipeline with one worker per core and a window of twice that. */
    public static <T> OrderedPipeline<T> onAllCores(Sink<T> sink) {
        int cores = Runtime.getRuntime().availableProcessors();
        return new OrderedPipeline<>(cores, cores * 4, sink);
    }

    /** Queues a task; blocks while the window is full, draining finished results to the sink. */
    public void submit(Callable<T> task) throws IOException {
        while (inFlight.size() >= window) {
            drainOne();
        }
        inFlight.add(pool.submit(task));
    }

    /** Waits for every queued task and hands its result to the sink. */
    public void finish() throws IOException {
        while (!inFlight.isEmpty()) {
            drainOne();
        }
    }

    private void drainOne() throws IOException {
        Future<T> head = inFlight.poll();
        try {
            sink.accept(head.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(cause);
        }
    }

    @Override
    public void close() {
        inFlight.forEach(f -> f.cancel(true));
        inFlight.clear();
        pool.shutdownNow();
    }
}
