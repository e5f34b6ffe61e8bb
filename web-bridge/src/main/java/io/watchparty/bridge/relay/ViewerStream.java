package io.watchparty.bridge.relay;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.watchparty.proto.v1.Role;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One browser's event stream in one room: a bounded queue that its relay fills and that exactly one
 * writer (the browser's own virtual thread) drains with {@link #next}.
 *
 * <p>The relay never waits for a browser: {@link #offer} only queues. When the queue is full the
 * backlog is dropped and the browser gets a fresh snapshot instead. Events the writer has already
 * covered with a snapshot are skipped by sequence, so a browser never sees an event twice.
 *
 * <p>The writer waits without a timeout: a keep-alive is due when a {@link #heartbeat} finds that
 * nothing was queued since the one before. A timed wait would arm and cancel a timer of the
 * virtual-thread scheduler for every event of every browser (11% of the bridge's Java samples with
 * 10,000 tabs, JFR).
 */
public final class ViewerStream implements AutoCloseable {
  /** What the queue holds: room events, and "check whether this user may watch that title". */
  private sealed interface Item {}

  private record Frame(Outgoing.Event event) implements Item {}

  private record TitleCheck(String titleId) implements Item {}

  /** The server told this user whether they may watch (a licence window opened or closed). */
  private record Told(Outgoing.Event event, boolean canWatch) implements Item {}

  private final RoomRelay relay;
  private final Viewer viewer;
  private final int capacity;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition ready = lock.newCondition();

  @GuardedBy("lock")
  private final ArrayDeque<Item> queue = new ArrayDeque<>();

  @GuardedBy("lock")
  private boolean snapshotDue;

  @GuardedBy("lock")
  private Outgoing.End end;

  @GuardedBy("lock")
  private boolean endTaken;

  @GuardedBy("lock")
  private boolean queuedSinceBeat;

  @GuardedBy("lock")
  private boolean keepAliveDue;

  // The writer's own state: touched only by the thread that calls next().
  private long lastSentSequence = -1;
  private String watchedTitleId;
  private boolean watchable = true;

  private volatile Role role;

  ViewerStream(RoomRelay relay, Viewer viewer, Role role, String titleId, int capacity) {
    this.relay = relay;
    this.viewer = viewer;
    this.role = role;
    this.watchedTitleId = titleId;
    this.capacity = capacity;
  }

  /** The user this stream serves. */
  public Viewer viewer() {
    return viewer;
  }

  /** The room this stream follows. */
  public String roomId() {
    return relay.roomId();
  }

  Role role() {
    return role;
  }

  void role(Role role) {
    this.role = role;
  }

  /** Whether the user may watch the title they were last told about (the writer's view). */
  boolean watchable() {
    return watchable;
  }

  /** Queues a room event; never blocks. */
  void offer(Outgoing.Event event) {
    enqueue(new Frame(event));
  }

  /** Passes on the server's word that the user may (or may no longer) watch the room's title. */
  void told(Outgoing.Event watchability, boolean canWatch) {
    enqueue(new Told(watchability, canWatch));
  }

  /** Asks the writer to tell the user whether they may watch {@code titleId}. */
  void checkTitle(String titleId) {
    enqueue(new TitleCheck(titleId));
  }

  /** Replaces whatever is queued by a fresh snapshot, taken when the writer gets to it. */
  void resync() {
    lock.lock();
    try {
      if (end == null) {
        queue.clear();
        snapshotDue = true;
        queuedSinceBeat = true;
        ready.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Ends the stream: the writer sends what is already queued (such as the event that says who was
   * kicked), then {@code reason}'s event, and stops. Idempotent.
   */
  void end(EndReason reason) {
    lock.lock();
    try {
      if (end == null) {
        snapshotDue = false;
        end = new Outgoing.End(reason);
        ready.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * The browser closed its connection: the writer drops what is queued and stops at once, with an
   * end that stops no reconnect (there is no one to send it to). Idempotent; an end already due
   * stays as it was.
   */
  public void disconnected() {
    lock.lock();
    try {
      if (end == null) {
        queue.clear();
        snapshotDue = false;
        end = new Outgoing.End(EndReason.DISCONNECTED);
        ready.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * A tick of the keep-alive clock: when nothing was queued since the previous tick, the writer
   * sends a keep-alive. With ticks every half heartbeat, a quiet browser hears something every half
   * to whole heartbeat.
   */
  void heartbeat() {
    lock.lock();
    try {
      if (!queuedSinceBeat && end == null) {
        keepAliveDue = true;
        ready.signal();
      }
      queuedSinceBeat = false;
    } finally {
      lock.unlock();
    }
  }

  private void enqueue(Item item) {
    lock.lock();
    try {
      if (end != null) {
        return;
      }
      queuedSinceBeat = true;
      if (queue.size() < capacity) {
        queue.addLast(item);
      } else {
        // Behind by a whole queue: a snapshot will serve it better than the backlog. A browser
        // that reads nothing at all is closed by its writer's stall watch, not here.
        queue.clear();
        if (!snapshotDue) {
          snapshotDue = true;
          relay.metrics().resynced();
        }
      }
      ready.signal();
    } finally {
      lock.unlock();
    }
  }

  /** Frames waiting for the writer; for the queue-depth metric. */
  int depth() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  /**
   * The next thing to send, waiting until there is one; empty when it is time for a keep-alive (see
   * {@link #heartbeat}). After an {@link Outgoing.End} there is nothing more: the caller stops.
   *
   * @throws InterruptedException when the writer is interrupted (e.g. by the stall watchdog)
   */
  public Optional<Outgoing> next() throws InterruptedException {
    while (true) {
      Item item;
      lock.lock();
      try {
        while (queue.isEmpty() && !snapshotDue && (end == null || endTaken)) {
          if (keepAliveDue || endTaken) {
            keepAliveDue = false;
            return Optional.empty();
          }
          ready.await();
        }
        keepAliveDue = false; // what is sent now keeps the connection alive as well
        if (end != null && queue.isEmpty()) {
          endTaken = true;
          return Optional.of(end);
        }
        if (snapshotDue) {
          snapshotDue = false;
          item = null;
        } else {
          item = queue.pollFirst();
        }
      } finally {
        lock.unlock();
      }
      Optional<Outgoing.Event> out = item == null ? Optional.of(snapshot()) : prepare(item);
      if (out.isPresent()) {
        return Optional.of(out.get());
      }
    }
  }

  private Outgoing.Event snapshot() {
    RoomRelay.Personal snapshot = relay.snapshotFor(this);
    lastSentSequence = snapshot.event().id();
    watchedTitleId = snapshot.titleId();
    watchable = snapshot.canWatch();
    return snapshot.event();
  }

  private Optional<Outgoing.Event> prepare(Item item) {
    return switch (item) {
      case Frame frame -> {
        long id = frame.event().id();
        if (id != Outgoing.Event.NO_ID && id <= lastSentSequence) {
          yield Optional.empty(); // a snapshot sent since already covers it
        }
        if (id != Outgoing.Event.NO_ID) {
          lastSentSequence = id;
        }
        yield Optional.of(frame.event());
      }
      case Told told -> {
        watchable = told.canWatch();
        yield Optional.of(told.event());
      }
      case TitleCheck check -> {
        if (check.titleId().equals(watchedTitleId)) {
          yield Optional.empty(); // the last snapshot already said
        }
        watchedTitleId = check.titleId();
        boolean wasWatchable = watchable;
        Optional<RoomRelay.Personal> told = relay.watchabilityFor(this, check.titleId());
        told.ifPresent(t -> watchable = t.canWatch());
        // As the server tells its members: only a viewer who cannot watch the new title, or whose
        // right to watch changed, hears of it.
        yield told.filter(t -> !t.canWatch() || !wasWatchable).map(RoomRelay.Personal::event);
      }
    };
  }

  /** The browser went away (or its stream ended): the relay stops serving it. Idempotent. */
  @Override
  public void close() {
    relay.detach(this);
  }
}
