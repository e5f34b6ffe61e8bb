package io.watchparty.bridge;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Interrupts a write to a browser that has not finished within the stall timeout (the browser
 * accepts nothing); on a virtual thread the interrupt aborts the blocked socket write and the
 * stream ends. Only a write still in progress is interrupted: the watch and the writer settle each
 * write under its own monitor, so an interrupt never lands after the write it was meant for, where
 * it would end a healthy stream while it waits for its next event. Thread-safe.
 */
final class StallWatch {
  private final long limitNanos;
  private final LongSupplier nanoTime;
  private final Map<Thread, Write> writing = new ConcurrentHashMap<>();

  /** One write in progress. */
  static final class Write {
    private final Thread writer;
    private final long since;

    @GuardedBy("this")
    private boolean done;

    @GuardedBy("this")
    private boolean stalled;

    private Write(Thread writer, long since) {
      this.writer = writer;
      this.since = since;
    }
  }

  StallWatch(Duration limit, LongSupplier nanoTime) {
    this.limitNanos = limit.toNanos();
    this.nanoTime = nanoTime;
  }

  /** The calling thread starts a write. */
  Write begin() {
    Write write = new Write(Thread.currentThread(), nanoTime.getAsLong());
    writing.put(write.writer, write);
    return write;
  }

  /**
   * The write ended (done or failed). True if the watch found it stalled: it was interrupted, and
   * the interrupt is consumed here, so the thread goes on with none pending.
   */
  boolean end(Write write) {
    writing.remove(write.writer, write);
    synchronized (write) {
      write.done = true;
      if (write.stalled) {
        Thread.interrupted();
        return true;
      }
      return false;
    }
  }

  /** Interrupts every write in progress for longer than the limit; returns how many. */
  int interruptStalled() {
    long now = nanoTime.getAsLong();
    int interrupted = 0;
    for (Write write : writing.values()) {
      if (now - write.since <= limitNanos) {
        continue;
      }
      synchronized (write) {
        if (!write.done && !write.stalled) {
          write.stalled = true;
          write.writer.interrupt();
          interrupted++;
        }
      }
    }
    return interrupted;
  }
}
