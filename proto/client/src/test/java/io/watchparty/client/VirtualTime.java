package io.watchparty.client;

import java.util.PriorityQueue;

/** Virtual milliseconds for unit tests: timers run in time order as the test advances the time. */
final class VirtualTime implements Timers {
  private record Task(long at, long order, Runnable run, boolean[] cancelled) {}

  private final PriorityQueue<Task> queue =
      new PriorityQueue<>(
          (a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.order, b.order));
  private long now;
  private long order;

  VirtualTime(long startMs) {
    now = startMs;
  }

  long now() {
    return now;
  }

  @Override
  public Handle schedule(Runnable task, long delayMs) {
    boolean[] cancelled = {false};
    queue.add(new Task(now + Math.max(0, delayMs), order++, task, cancelled));
    return () -> cancelled[0] = true;
  }

  @Override
  public void execute(Runnable task) {
    schedule(task, 0);
  }

  /** Runs every task due until {@code now + ms}, in order, and leaves the time there. */
  void advance(long ms) {
    long until = now + ms;
    while (!queue.isEmpty() && queue.peek().at <= until) {
      Task task = queue.poll();
      now = task.at;
      if (!task.cancelled[0]) {
        task.run.run();
      }
    }
    now = until;
  }
}
