package io.watchparty.server.room;

import com.github.benmanes.caffeine.cache.Ticker;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Time that moves only when the test moves it (after grpc-java's {@code FakeClock}): the registry's
 * clock, its rate limiter's ticker and the scheduler of every room's timers read one counter, and a
 * timer fires when {@link #advance} passes its time, in the order they are due, on the thread that
 * advances, as the real scheduler's one thread would. Timer callbacks and storage completions still
 * hop to a real executor ({@link #executor}, virtual threads named {@code room-work-N}); {@link
 * #advance} and {@link #settle} return only once that work is done, so a test asserts right after
 * them, with no sleep and no poll. Thread-safe.
 */
final class ManualTime {
  /** Where the clock starts: a fixed instant, so that every run sees the same times. */
  static final Instant START = Instant.parse("2026-01-09T20:00:00Z");

  /** Room work that has not finished after this is stuck: the test fails instead of hanging. */
  private static final Duration STUCK = Duration.ofSeconds(30);

  private final Object lock = new Object();

  @GuardedBy("lock")
  private final PriorityQueue<Timer<?>> timers = new PriorityQueue<>();

  @GuardedBy("lock")
  private long nanos; // since START

  @GuardedBy("lock")
  private long order; // of scheduling, for timers due at the same nanosecond

  @GuardedBy("lock")
  private int running; // tasks handed to the executor and not finished

  private final ExecutorService work;
  private final Scheduler scheduler = new Scheduler();

  ManualTime(ExecutorService work) {
    this.work = work;
  }

  InstantSource clock() {
    return () -> START.plusNanos(now());
  }

  Ticker ticker() {
    return this::now;
  }

  /** Fires timers as {@link #advance} passes their time; never on a thread of its own. */
  ScheduledExecutorService scheduler() {
    return scheduler;
  }

  /** The room work executor; {@link #settle} waits for what it runs. */
  Executor executor() {
    return task -> {
      synchronized (lock) {
        running++;
      }
      try {
        work.execute(
            () -> {
              try {
                task.run();
              } finally {
                finished();
              }
            });
      } catch (RuntimeException e) {
        finished();
        throw e;
      }
    };
  }

  private void finished() {
    synchronized (lock) {
      running--;
      lock.notifyAll();
    }
  }

  private long now() {
    synchronized (lock) {
      return nanos;
    }
  }

  /** Timers scheduled and neither fired nor cancelled. */
  int scheduled() {
    synchronized (lock) {
      return timers.size();
    }
  }

  /**
   * Moves the time on by {@code by}, firing each timer due on the way at its own time, and returns
   * once the work they handed on is done.
   */
  void advance(Duration by) {
    long until;
    synchronized (lock) {
      until = nanos + by.toNanos();
    }
    while (true) {
      settle();
      synchronized (lock) {
        Timer<?> next = timers.peek();
        if (next == null || next.due > until) {
          nanos = until;
          break;
        }
        nanos = next.due;
      }
    }
    settle();
  }

  /**
   * Fires the timers due now (a delay of zero), and waits until the room work they and earlier
   * calls handed on is done, until neither is left.
   */
  void settle() {
    while (true) {
      Timer<?> due;
      synchronized (lock) {
        awaitIdle();
        due = timers.peek();
        if (due == null || due.due > nanos) {
          return;
        }
        timers.poll();
      }
      due.fire();
    }
  }

  @GuardedBy("lock")
  private void awaitIdle() {
    long deadline = System.nanoTime() + STUCK.toNanos();
    while (running > 0) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("room work still running after " + STUCK);
      }
      try {
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while room work ran", e);
      }
    }
  }

  /** A timer: once, or again every {@code period} after it ran (fixed delay). */
  private final class Timer<V> extends FutureTask<V> implements ScheduledFuture<V> {
    private final long period;
    private final long sequence;
    private long due;

    Timer(Callable<V> task, long due, long period, long sequence) {
      super(task);
      this.due = due;
      this.period = period;
      this.sequence = sequence;
    }

    void fire() {
      if (period == 0) {
        run();
      } else if (runAndReset()) {
        synchronized (lock) {
          due = nanos + period;
          timers.add(this);
        }
      }
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      synchronized (lock) {
        timers.remove(this); // as setRemoveOnCancelPolicy(true)
      }
      return cancelled;
    }

    @Override
    public long getDelay(TimeUnit unit) {
      synchronized (lock) {
        return unit.convert(due - nanos, TimeUnit.NANOSECONDS);
      }
    }

    @Override
    public int compareTo(Delayed other) {
      Timer<?> that = (Timer<?>) other;
      return due != that.due ? Long.compare(due, that.due) : Long.compare(sequence, that.sequence);
    }
  }

  /** The scheduling half of a {@link ScheduledExecutorService}; it is never shut down. */
  private final class Scheduler extends AbstractExecutorService
      implements ScheduledExecutorService {
    private <V> ScheduledFuture<V> add(Callable<V> task, long delay, long period, TimeUnit unit) {
      synchronized (lock) {
        Timer<V> timer =
            new Timer<>(
                task, nanos + Math.max(0, unit.toNanos(delay)), unit.toNanos(period), order++);
        timers.add(timer);
        return timer;
      }
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
      return add(() -> run(command), delay, 0, unit);
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
      return add(callable, delay, 0, unit);
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(
        Runnable command, long initialDelay, long delay, TimeUnit unit) {
      return add(() -> run(command), initialDelay, delay, unit);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(
        Runnable command, long initialDelay, long period, TimeUnit unit) {
      throw new UnsupportedOperationException("the rooms schedule with a fixed delay");
    }

    private static Void run(Runnable command) {
      command.run();
      return null;
    }

    @Override
    public void execute(Runnable command) {
      schedule(command, 0, TimeUnit.NANOSECONDS);
    }

    @Override
    public void shutdown() {}

    @Override
    public List<Runnable> shutdownNow() {
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return false;
    }

    @Override
    public boolean isTerminated() {
      return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return false;
    }
  }
}
