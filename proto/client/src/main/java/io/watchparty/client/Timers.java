package io.watchparty.client;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Delayed work on the client's own thread. A timer only hands work on: whoever schedules owns the
 * returned handle and cancels it when it ends. Tests substitute virtual time.
 */
interface Timers {
  /** A scheduled task; cancelling one that ran or was cancelled does nothing. */
  interface Handle {
    void cancel();
  }

  Handle schedule(Runnable task, long delayMs);

  /** Runs {@code task} on the client's thread as soon as possible. */
  void execute(Runnable task);

  static Timers on(ScheduledExecutorService executor) {
    return new Timers() {
      @Override
      public Handle schedule(Runnable task, long delayMs) {
        try {
          var future = executor.schedule(task, Math.max(0, delayMs), TimeUnit.MILLISECONDS);
          return () -> future.cancel(false);
        } catch (RejectedExecutionException closed) {
          return () -> {}; // the client is closed: nothing runs any more
        }
      }

      @Override
      public void execute(Runnable task) {
        try {
          executor.execute(task);
        } catch (RejectedExecutionException closed) {
          // the client is closed: late gRPC callbacks have nobody to tell
        }
      }
    };
  }
}
