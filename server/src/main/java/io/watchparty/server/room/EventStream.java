package io.watchparty.server.room;

import io.watchparty.proto.v1.Resumed;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Snapshot;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * One room's ordered event stream: numbers each event with the next room sequence, serializes it
 * once, keeps it in the bounded {@link EventLog} for resuming clients, and offers the same bytes to
 * every open stream. A stream a whole queue behind gets a snapshot instead of the backlog;
 * snapshots are built once per sequence and personal variant (role, right to watch) and shared.
 * Guarded by the room lock.
 */
final class EventStream {
  /** What differs between two receivers' snapshots of the same sequence. */
  record Personal(Role role, boolean canWatch) {}

  private final EventLog log;
  private final Function<Personal, Snapshot.Builder> snapshots;
  private final Function<Subscriber, Personal> personal;
  private final FanOutTimes fanOutTimes;
  private final Set<Subscriber> receivers = new LinkedHashSet<>();

  /** Snapshot frames built at {@link #snapshotsAt}, by variant. */
  private final Map<Personal, byte[]> snapshotCache = new HashMap<>();

  private long snapshotsAt = -1;
  private long snapshotsBuilt;

  /**
   * @param snapshots builds the room's snapshot for a variant, without its sequence
   * @param personal which variant a receiver gets
   * @param fanOutTimes where each published event's fan-out time is recorded
   */
  EventStream(
      EventLog log,
      Function<Personal, Snapshot.Builder> snapshots,
      Function<Subscriber, Personal> personal,
      FanOutTimes fanOutTimes) {
    this.log = log;
    this.snapshots = snapshots;
    this.personal = personal;
    this.fanOutTimes = fanOutTimes;
  }

  long lastSequence() {
    return log.lastSequence();
  }

  /**
   * Opens the stream of a new receiver: a snapshot, or when it resumes from {@code lastSequence}
   * and the log still holds what it missed, a Resumed marker and the missed events. Returns whether
   * it was an exact replay.
   */
  boolean attach(Subscriber subscriber, long lastSequence) {
    receivers.add(subscriber);
    if (lastSequence > 0) {
      Optional<List<byte[]>> missed = log.after(lastSequence);
      if (missed.isPresent()) {
        deliver(
            subscriber,
            ServerMessage.newBuilder()
                .setResumed(
                    Resumed.newBuilder()
                        .setFromSequence(lastSequence + 1)
                        .setToSequence(log.lastSequence()))
                .build()
                .toByteArray());
        for (byte[] frame : missed.get()) {
          if (!deliver(subscriber, frame)) {
            return false; // the snapshot that replaced the replay covers the rest of it
          }
        }
        return true;
      }
    }
    deliver(subscriber, snapshotFrame(subscriber));
    return false;
  }

  void detach(Subscriber subscriber) {
    receivers.remove(subscriber);
  }

  /**
   * Numbers, serializes (once) and delivers an event to every stream; returns its sequence. Its
   * fan-out time runs from here until the last stream's writer has handed its frame over.
   */
  long publish(ServerMessage.Builder event) {
    long acceptedAtNanos = System.nanoTime();
    long sequence = log.lastSequence() + 1;
    byte[] frame = event.setSequence(sequence).build().toByteArray();
    log.append(sequence, frame);
    if (receivers.isEmpty()) {
      return sequence;
    }
    var fanOut = new FanOut(frame, acceptedAtNanos, receivers.size(), fanOutTimes);
    for (Subscriber receiver : receivers) {
      if (!receiver.sink().offer(fanOut)) {
        receiver.sink().resetTo(snapshotFrame(receiver));
      }
    }
    fanOut.handedOver(); // the publisher's share: the streams' writers may finish before this loop
    return sequence;
  }

  /**
   * Queues a frame for one stream only (a personal notice), not numbered and not logged; false if
   * the stream fell behind and got the current snapshot instead.
   */
  boolean deliver(Subscriber subscriber, byte[] frame) {
    if (subscriber.sink().offer(frame)) {
      return true;
    }
    subscriber.sink().resetTo(snapshotFrame(subscriber));
    return false;
  }

  /** The snapshot a receiver gets now: built once per sequence and variant. */
  byte[] snapshotFrame(Subscriber subscriber) {
    if (snapshotsAt != log.lastSequence()) {
      snapshotCache.clear();
      snapshotsAt = log.lastSequence();
    }
    return snapshotCache.computeIfAbsent(
        personal.apply(subscriber),
        variant -> {
          snapshotsBuilt++;
          return ServerMessage.newBuilder()
              .setSequence(snapshotsAt)
              .setSnapshot(snapshots.apply(variant))
              .build()
              .toByteArray();
        });
  }

  /**
   * Forgets the snapshots built for the current sequence: something they show changed without an
   * event (a personal notice's state, a setting the chat changed before publishing).
   */
  void snapshotsChanged() {
    snapshotCache.clear();
  }

  /** How many snapshot frames were built (tests check they are shared). */
  long snapshotsBuilt() {
    return snapshotsBuilt;
  }
}
