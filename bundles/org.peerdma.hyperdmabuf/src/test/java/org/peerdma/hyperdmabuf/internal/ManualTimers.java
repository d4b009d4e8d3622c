package org.peerdma.hyperdmabuf.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;

/**
 * A clock for the front end's delayed work that moves only when a test says so: schedule records
 * the work and its delay, {@link #advance} hands what came due to the module's workqueue (where
 * schedule_delayed_work runs it). No test waits for wall-clock time.
 */
final class ManualTimers implements HyperDmabufImpl.DelayedWork {
    /** One delayed work item: when it is due on this clock, the delay asked for, the task. */
    record Pending(long due, long delayMs, FutureTask<Void> task) {
    }

    private final Executor workqueue;
    private final List<Pending> pending = new ArrayList<>();
    private long now;

    ManualTimers(Executor workqueue) {
        this.workqueue = workqueue;
    }

    /** Installs a clock of its own in {@code front}; its due work runs on the front end's workqueue. */
    static ManualTimers on(HyperDmabufImpl front) {
        ManualTimers t = new ManualTimers(front.work);
        front.delayed = t;
        return t;
    }

    @Override
    public synchronized Future<?> schedule(Runnable work, long delayMs) {
        FutureTask<Void> t = new FutureTask<>(work, null);
        pending.add(new Pending(now + delayMs, delayMs, t));
        return t;
    }

    /** advance - the clock moves {@code ms} on; work due by then goes to the workqueue, in order. */
    void advance(long ms) {
        List<Pending> due = new ArrayList<>();
        synchronized (this) {
            now += ms;
            pending.removeIf(p -> p.task().isCancelled());
            for (Pending p : List.copyOf(pending)) {
                if (p.due() <= now) {
                    due.add(p);
                    pending.remove(p);
                }
            }
        }
        due.sort(java.util.Comparator.comparingLong(Pending::due));
        due.forEach(p -> workqueue.execute(p.task()));
    }

    /** @return the delays (ms) of the work still queued and not cancelled, in the order it was queued. */
    synchronized List<Long> queuedDelays() {
        return pending.stream().filter(p -> !p.task().isCancelled()).map(Pending::delayMs).toList();
    }
}
