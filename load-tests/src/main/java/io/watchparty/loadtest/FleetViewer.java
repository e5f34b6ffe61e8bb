package io.watchparty.loadtest;

import io.watchparty.client.ConnectionState;
import io.watchparty.client.Refusal;
import io.watchparty.client.RoomListener;
import io.watchparty.proto.v1.PlaybackChanged;
import io.watchparty.proto.v1.PlaybackState;
import io.watchparty.proto.v1.Snapshot;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What one member's connection of the client library heard while its room's owner failed or moved:
 * its connection states and refusals, and each playback state it was shown (snapshot or event),
 * with when. What fleet tests and takeover runs judge a viewer by: whether it missed an accepted
 * change or saw one twice, and the gap it saw around a failure.
 */
final class FleetViewer implements RoomListener {
  /** A playback state shown to the viewer: its sequence, position, whether a snapshot, when. */
  record Shown(long sequence, long positionMs, boolean snapshot, long atNanos) {}

  /** A connection state the viewer's connection entered, why (a refusal's reason, or ""), when. */
  record StateChange(ConnectionState state, String reason, long atNanos) {}

  final List<String> refusals = new CopyOnWriteArrayList<>();
  private final List<StateChange> changes = new CopyOnWriteArrayList<>();
  private final List<Shown> shown = new CopyOnWriteArrayList<>();

  @Override
  public void onConnectionState(ConnectionState state, Optional<Refusal> refusal) {
    changes.add(new StateChange(state, refusal.map(Refusal::reason).orElse(""), System.nanoTime()));
    refusal.ifPresent(r -> refusals.add(r.reason()));
  }

  /** The connection states entered, in order. */
  List<ConnectionState> states() {
    return changes.stream().map(StateChange::state).toList();
  }

  /** The state changes from {@code fromNanos} to {@code toNanos}, in order. */
  List<StateChange> changesBetween(long fromNanos, long toNanos) {
    return changes.stream()
        .filter(change -> change.atNanos() >= fromNanos && change.atNanos() <= toNanos)
        .toList();
  }

  /** When the connection first entered one of {@code states} at or after {@code fromNanos}. */
  Optional<Long> firstAtNanos(long fromNanos, Set<ConnectionState> states) {
    return changes.stream()
        .filter(change -> change.atNanos() >= fromNanos && states.contains(change.state()))
        .map(StateChange::atNanos)
        .findFirst();
  }

  @Override
  public void onSnapshot(Snapshot snapshot) {
    PlaybackState playback = snapshot.getPlayback();
    shown.add(new Shown(playback.getSequence(), playback.getPositionMs(), true, System.nanoTime()));
  }

  @Override
  public void onPlayback(PlaybackState state, String byUserId, PlaybackChanged.Cause cause) {
    shown.add(new Shown(state.getSequence(), state.getPositionMs(), false, System.nanoTime()));
  }

  /** The last playback state shown, if any. */
  Optional<Shown> last() {
    return shown.isEmpty() ? Optional.empty() : Optional.of(shown.getLast());
  }

  /**
   * How what this viewer was shown compares with the changes the host had accepted (in the order of
   * their sequences).
   *
   * @param lost accepted changes neither received nor covered by a later snapshot
   * @param duplicated events received twice (a snapshot may repeat the state it shows)
   * @param reverted times a snapshot showed an older state than an event shown before it: the
   *     viewer had been shown a change its owner announced but had not stored when it died
   *     (playback is announced before it is stored; see {@code room.proto}), which the next owner
   *     never had
   */
  record Exactness(List<Long> lost, List<Long> duplicated, int reverted) {
    boolean exact() {
      return lost.isEmpty() && duplicated.isEmpty() && reverted == 0;
    }
  }

  Exactness exactness(List<HostSeeks.Change> accepted) {
    List<Shown> seen = List.copyOf(shown);
    List<Long> duplicated = new ArrayList<>();
    int reverted = 0;
    Set<Long> events = new HashSet<>();
    long newestSnapshot = Long.MIN_VALUE;
    for (int i = 0; i < seen.size(); i++) {
      Shown state = seen.get(i);
      if (i > 0 && state.snapshot() && state.sequence() < seen.get(i - 1).sequence()) {
        reverted++;
      }
      if (state.snapshot()) {
        newestSnapshot = Math.max(newestSnapshot, state.sequence());
      } else if (!events.add(state.sequence())) {
        duplicated.add(state.sequence());
      }
    }
    List<Long> lost = new ArrayList<>();
    for (HostSeeks.Change change : accepted) {
      if (!events.contains(change.sequence()) && newestSnapshot < change.sequence()) {
        lost.add(change.sequence());
      }
    }
    return new Exactness(lost, duplicated, reverted);
  }

  /** The time from the last state shown before {@code atNanos} to the first one after it. */
  Optional<Long> gapAroundNanos(long atNanos) {
    Optional<Long> before =
        shown.stream().map(Shown::atNanos).filter(t -> t <= atNanos).reduce((a, b) -> b);
    Optional<Long> after = shown.stream().map(Shown::atNanos).filter(t -> t > atNanos).findFirst();
    return before.flatMap(b -> after.map(a -> a - b));
  }
}
