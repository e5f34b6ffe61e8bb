package io.watchparty.server.room;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Every timer of one room (grace periods, presence counts, the buffering wait, licence boundaries,
 * write retries, reaction windows): the one owner that cancels them all when the room retires or
 * closes, so a room that left memory leaves nothing scheduled that would keep it reachable.
 *
 * <p>The scheduler is shared by every room on the server and only fires timers: each callback runs
 * on {@code executor}, so a room's work (taking its lock, building frames) never holds up another
 * room's timers. The scheduler should remove cancelled tasks at once ({@link
 * java.util.concurrent.ScheduledThreadPoolExecutor#setRemoveOnCancelPolicy}). Thread-safe.
 */
final class RoomTimers {
  /** A scheduled callback; cancelling it is harmless once it ran. */
  interface Timer {
    void cancel();
  }

  private static final Timer NONE = () -> {};

  private final ScheduledExecutorService scheduler;
  private final Executor executor;
  private final Set<Future<?>> pending = new HashSet<>(); // guarded by itself

  @GuardedBy("pending")
  private boolean stopped; // guarded by pending

  RoomTimers(ScheduledExecutorService scheduler, Executor executor) {
    this.scheduler = scheduler;
    this.executor = executor;
  }

  /** Runs {@code task} on the executor after {@code delayMs}; nothing once the room stopped. */
  Timer schedule(Runnable task, long delayMs) {
    synchronized (pending) {
      if (stopped) {
        return NONE;
      }
      Future<?>[] self = new Future<?>[1];
      Future<?> future =
          scheduler.schedule(
              () -> {
                synchronized (pending) {
                  pending.remove(self[0]);
                }
                executor.execute(task);
              },
              Math.max(0, delayMs),
              TimeUnit.MILLISECONDS);
      self[0] = future;
      if (!future.isDone()) {
        pending.add(future);
      }
      return () -> {
        synchronized (pending) {
          pending.remove(future);
        }
        future.cancel(false);
      };
    }
  }

  /** Cancels every timer and refuses new ones: the room retired or closed. */
  void stopAll() {
    synchronized (pending) {
      stopped = true;
      pending.forEach(f -> f.cancel(false));
      pending.clear();
    }
  }

  /** Timers scheduled and not yet fired or cancelled. */
  int pending() {
    synchronized (pending) {
      return pending.size();
    }
  }
}
