package io.watchparty.server.room;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.MemberJoined;
import io.watchparty.proto.v1.MemberLeft;
import io.watchparty.proto.v1.PresenceCount;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.refusal.RefusedException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Who is in one room: members (each with a stream per device, and a grace period after their last
 * stream drops), the relays and the viewers they serve, and how presence is announced: joins and
 * leaves one by one in small rooms, a throttled count above {@link RoomConfig#presenceDetailLimit}.
 * Guarded by the room lock; its timers call back into the room, which takes the lock.
 */
final class Presence {
  private final UUID roomId;
  private final RoomConfig config;
  private final InstantSource clock;
  private final RoomTimers timers;
  private final EventStream events;
  private final Roles roles;
  private final Runnable presenceDue;
  private final Consumer<String> relayedGraceExpired;

  /** In join order: the longest-present member comes first (host succession). */
  private final LinkedHashMap<String, Member> members = new LinkedHashMap<>();

  private final Set<Subscriber> relays = new LinkedHashSet<>();

  /** Viewers some relay serves (or served until its stream dropped, for the grace period). */
  private final LinkedHashMap<String, RelayedViewer> relayedViewers = new LinkedHashMap<>();

  /** Someone present in the room, by stream or through a relay. */
  record Person(String userId, String displayName) {}

  /** A viewer a relay named, as its grant said. */
  static final class RelayedViewer extends Watcher {
    /** Set while no relay serves them: fires when the reconnect grace period is over. */
    RoomTimers.Timer graceTimer;

    RelayedViewer(String userId, String displayName, String region) {
      super(userId, displayName, region);
    }
  }

  /**
   * Relayed viewers who are no member too (listed), and of those the ones a relay serves now, not
   * waiting out a grace period (counted). Kept as the roster changes, so that a join into a room of
   * thousands costs no pass over it under the lock.
   */
  private int relayedOnlyCount;

  private int servedRelayedOnlyCount;

  private RoomTimers.Timer presenceTimer;
  private long lastCountSentAtMs = Long.MIN_VALUE / 2;
  private long lastCountSent = -1;

  /**
   * @param presenceDue called (on a timer) when a throttled count may be sent; it takes the room
   *     lock and calls {@link #sendCount}
   * @param relayedGraceExpired called (on a timer) when a viewer no relay serves any more is out of
   *     their grace period; it takes the room lock and calls {@link #relayedGraceExpired(String)}
   */
  Presence(
      UUID roomId,
      RoomConfig config,
      InstantSource clock,
      RoomTimers timers,
      EventStream events,
      Roles roles,
      Runnable presenceDue,
      Consumer<String> relayedGraceExpired) {
    this.roomId = roomId;
    this.config = config;
    this.clock = clock;
    this.timers = timers;
    this.events = events;
    this.roles = roles;
    this.presenceDue = presenceDue;
    this.relayedGraceExpired = relayedGraceExpired;
  }

  /** The viewer a relay serves under this id, who is no member (a member is their watcher). */
  Optional<Watcher> relayedOnly(String userId) {
    if (members.containsKey(userId)) {
      return Optional.empty();
    }
    return Optional.<Watcher>ofNullable(relayedViewers.get(userId))
        .filter(v -> !v.region.isEmpty());
  }

  Optional<Member> member(String userId) {
    return Optional.ofNullable(members.get(userId));
  }

  Collection<Member> members() {
    return members.values();
  }

  boolean isEmpty() {
    return members.isEmpty() && relays.isEmpty() && relayedViewers.isEmpty();
  }

  /**
   * A member, or a viewer some relay serves now: they may send commands and chat. (A viewer no
   * relay serves is listed for the grace period, but acts again only once served again.)
   */
  boolean isPresent(String userId) {
    return members.containsKey(userId) || servedByARelay(userId);
  }

  /** Still in the room: present, or a relayed viewer within their grace period. */
  boolean isHere(String userId) {
    return members.containsKey(userId) || relayed(userId);
  }

  /**
   * Commands come from members: joined through a stream, or served by a relay that named them (a
   * kicked co-host keeps no remote control).
   */
  void requirePresent(String userId) {
    if (!isPresent(userId)) {
      throw new RefusedException(
          ErrorReason.NOT_JOINED,
          "join the room before sending it commands",
          Map.of("room_id", roomId.toString()));
    }
  }

  /** The target of a command: a member, or a viewer a relay serves. */
  String requirePresentTarget(String userId) {
    if (!isHere(Identity.requireUserId(userId))) {
      throw notInRoom(userId);
    }
    return userId;
  }

  private static RefusedException notInRoom(String userId) {
    return new RefusedException(
        ErrorReason.MEMBER_NOT_FOUND,
        "'" + userId + "' is not in the room",
        Map.of("user_id", userId));
  }

  /** Whether some relay serves {@code userId} (or did until its stream dropped, within grace). */
  boolean relayed(String userId) {
    return relayedViewers.containsKey(userId);
  }

  private boolean servedByARelay(String userId) {
    return relays.stream().anyMatch(r -> r.audience.containsKey(userId));
  }

  /** The target of a command that needs a person (host transfer): a member or a relayed viewer. */
  Person requirePerson(String userId) {
    Identity.requireUserId(userId);
    Member member = members.get(userId);
    if (member != null) {
      return new Person(member.userId, member.displayName);
    }
    RelayedViewer viewer = relayedViewers.get(userId);
    if (viewer != null) {
      return new Person(viewer.userId, viewer.displayName);
    }
    throw notInRoom(userId);
  }

  /** Everyone present, longest-present members first, then relayed viewers: host succession. */
  List<Person> people() {
    List<Person> people = new ArrayList<>();
    members.values().forEach(m -> people.add(new Person(m.userId, m.displayName)));
    servedRelayedOnly().forEach(v -> people.add(new Person(v.userId, v.displayName)));
    return people;
  }

  /**
   * Everyone whose right to watch is tracked: members, and relayed viewers (who are no member too)
   * whose region is known.
   */
  List<Watcher> watchers() {
    List<Watcher> watchers = new ArrayList<>(members.values());
    relayedOnly().filter(v -> !v.region.isEmpty()).forEach(watchers::add);
    return watchers;
  }

  /** Queues a frame for {@code userId} on every relay that serves them. */
  void tellRelays(String userId, byte[] frame) {
    for (Subscriber relay : relays) {
      if (relay.audience.containsKey(userId)) {
        events.deliver(relay, frame);
      }
    }
  }

  /** The home region of everyone present whose region is known (members and relayed viewers). */
  List<String> regions() {
    return watchers().stream().map(w -> w.region).toList();
  }

  /** The members and relayed viewers as a snapshot lists them. */
  List<io.watchparty.proto.v1.Member> describeAll() {
    List<io.watchparty.proto.v1.Member> all = new ArrayList<>();
    members.values().forEach(m -> all.add(describe(m)));
    relayedOnly().forEach(v -> all.add(describe(v)));
    return all;
  }

  private io.watchparty.proto.v1.Member describe(RelayedViewer v) {
    return describe(v, v.graceTimer == null);
  }

  /** How many people are present (members and relayed viewers, within grace too). */
  int listed() {
    return members.size() + relayedOnlyCount;
  }

  /**
   * How many people are here: members, and viewers some relay serves now who are no member too.
   * Each person counts once, however many tabs or devices they watch on.
   */
  long count() {
    return members.size() + servedRelayedOnlyCount;
  }

  /** A viewer joins ({@code +1}) or leaves ({@code -1}) the relayed viewers who are no member. */
  private void countRelayedOnly(RelayedViewer viewer, int change) {
    relayedOnlyCount += change;
    if (viewer.graceTimer == null) {
      servedRelayedOnlyCount += change;
    }
  }

  /** A relayed viewer's grace period starts or ends: they stop or start being counted. */
  private void setGrace(RelayedViewer viewer, RoomTimers.Timer timer) {
    if (!members.containsKey(viewer.userId)) {
      servedRelayedOnlyCount += (viewer.graceTimer == null ? 0 : 1) - (timer == null ? 0 : 1);
    }
    viewer.graceTimer = timer;
  }

  /** Relayed viewers who are no member by stream too (each person is listed once). */
  private Stream<RelayedViewer> relayedOnly() {
    return relayedViewers.values().stream().filter(v -> !members.containsKey(v.userId));
  }

  /** Of those, the ones a relay serves now (not waiting out their grace period). */
  private Stream<RelayedViewer> servedRelayedOnly() {
    return relayedOnly().filter(v -> v.graceTimer == null);
  }

  /** Small rooms list their members and announce each join and leave. */
  boolean detailed() {
    return listed() <= config.presenceDetailLimit();
  }

  /** A member as snapshots and join events show them. */
  private io.watchparty.proto.v1.Member describe(Member m) {
    return describe(m, m.connected());
  }

  private io.watchparty.proto.v1.Member describe(Watcher who, boolean connected) {
    return io.watchparty.proto.v1.Member.newBuilder()
        .setUserId(who.userId)
        .setDisplayName(who.displayName)
        .setRole(roles.roleOf(who.userId))
        .setConnected(connected)
        .build();
  }

  // ---------------------------------------------------------------------------------------------
  // Arrivals and departures

  /**
   * How a member's stream arrived: back within the grace period, and whether it resumed by an exact
   * replay of what it missed.
   */
  record Arrival(boolean newcomer, boolean reconnected, boolean replayed) {}

  /**
   * Adds a member's stream; a newcomer is announced before the stream opens, so its snapshot
   * (numbered with that event) shows the arrival.
   */
  Arrival addConnection(Identity who, Subscriber stream, long lastSequence) {
    Member member = members.get(who.userId());
    boolean newcomer = member == null;
    if (member == null) {
      member = new Member(who.userId(), who.displayName(), who.region());
      RelayedViewer relayed = relayedViewers.get(who.userId());
      if (relayed != null) {
        countRelayedOnly(relayed, -1); // listed once, as the member they now are
      }
      members.put(who.userId(), member);
      if (detailed()) {
        events.publish(
            ServerMessage.newBuilder()
                .setMemberJoined(
                    MemberJoined.newBuilder()
                        .setMember(describe(member).toBuilder().setConnected(true))));
      } else {
        countChanged();
      }
    }
    boolean reconnected = member.graceTimer != null;
    if (reconnected) {
      // Back within the grace period: no leave, no join, the role is kept.
      member.graceTimer.cancel();
      member.graceTimer = null;
    }
    member.connections.add(stream);
    return new Arrival(newcomer, reconnected, events.attach(stream, lastSequence));
  }

  void addRelay(Subscriber relay, long lastSequence) {
    relays.add(relay);
    events.attach(relay, lastSequence);
  }

  /**
   * A stream dropped without a Leave. Returns the member who lost their last connection (their
   * grace period starts, ending in {@code graceExpired}), if any.
   */
  Optional<Member> dropConnection(Subscriber stream, Consumer<Member> graceExpired) {
    events.detach(stream);
    if (stream.isRelay()) {
      if (relays.contains(stream)) {
        relayGone(stream);
      }
      return Optional.empty();
    }
    Member member = members.get(stream.identity().userId());
    if (member == null || !member.connections.remove(stream) || member.connected()) {
      return Optional.empty();
    }
    member.graceTimer =
        timers.schedule(() -> graceExpired.accept(member), config.reconnectGrace().toMillis());
    return Optional.of(member);
  }

  /** A relay left (it serves nobody now); its viewers keep their place for the grace period. */
  void removeRelay(Subscriber relay) {
    events.detach(relay);
    relay.sink().finish();
    if (relays.contains(relay)) {
      relayGone(relay);
    }
  }

  /** Removes a member from the room (every stream of theirs is ended by the caller). */
  void removeMember(Member member, MemberLeft.Reason reason) {
    boolean announced = detailed(); // joins were announced one by one, so are leaves
    members.remove(member.userId);
    member.connections.forEach(events::detach);
    if (member.graceTimer != null) {
      member.graceTimer.cancel();
      member.graceTimer = null;
    }
    RelayedViewer relayed = relayedViewers.get(member.userId);
    if (relayed != null) {
      countRelayedOnly(relayed, 1);
      return; // still here through a relay
    }
    if (announced) {
      announceLeft(member.userId, reason);
    } else {
      countChanged();
    }
  }

  /**
   * Stops counting a user every relay served (a kick, a ban, a leave for good); returns whether
   * some relay did.
   */
  boolean removeFromRelays(String userId) {
    for (Subscriber relay : relays) {
      relay.audience.remove(userId);
    }
    RelayedViewer viewer = relayedViewers.remove(userId);
    if (viewer != null) {
      forget(viewer);
    }
    return viewer != null;
  }

  void announceLeft(String userId, MemberLeft.Reason reason) {
    events.publish(
        ServerMessage.newBuilder()
            .setMemberLeft(MemberLeft.newBuilder().setUserId(userId).setReason(reason)));
  }

  /**
   * A relay's report of the viewers it serves (each authorized before); {@code details} says who
   * the added ones are. Returns the viewers who arrived (no relay served them before).
   */
  List<String> relayAudience(
      Subscriber relay,
      List<String> added,
      List<String> removed,
      Map<String, io.watchparty.proto.v1.RelayedViewer> details) {
    List<String> arrived = new ArrayList<>();
    for (String userId : added) {
      relay.audience.merge(userId, 1, Integer::sum);
      RelayedViewer viewer = relayedViewers.get(userId);
      if (viewer == null) {
        arrived.add(userId);
        var named = details.get(userId);
        viewer =
            named == null
                ? new RelayedViewer(userId, userId, "")
                : new RelayedViewer(userId, named.getDisplayName(), named.getRegion());
        relayedViewers.put(userId, viewer);
        if (!members.containsKey(userId)) {
          countRelayedOnly(viewer, 1);
          arrived(viewer);
        }
      } else if (viewer.graceTimer != null) {
        // Named again (the relay reconnected) within the grace period: nothing changed.
        viewer.graceTimer.cancel();
        setGrace(viewer, null);
      }
    }
    for (String userId : removed) {
      relay.audience.computeIfPresent(userId, (u, n) -> n > 1 ? n - 1 : null);
      if (!servedByARelay(userId)) {
        // A closed tab, or a browser reconnecting: they keep their place for the grace period,
        // so a page reload is no leave and join.
        startGrace(userId);
      }
    }
    countChanged();
    return arrived;
  }

  private void startGrace(String userId) {
    RelayedViewer viewer = relayedViewers.get(userId);
    if (viewer != null && viewer.graceTimer == null) {
      setGrace(
          viewer,
          timers.schedule(
              () -> relayedGraceExpired.accept(userId), config.reconnectGrace().toMillis()));
    }
  }

  /** A relayed viewer removed from the roster: uncounted, their grace period stopped. */
  private void forget(RelayedViewer viewer) {
    if (!members.containsKey(viewer.userId)) {
      countRelayedOnly(viewer, -1);
    }
    if (viewer.graceTimer != null) {
      viewer.graceTimer.cancel();
    }
  }

  private void arrived(RelayedViewer viewer) {
    if (detailed()) {
      events.publish(
          ServerMessage.newBuilder()
              .setMemberJoined(MemberJoined.newBuilder().setMember(describe(viewer))));
    } else {
      countChanged();
    }
  }

  /** A relayed viewer is gone (and is no member): announced as a member's leave would be. */
  private void departed(String userId, MemberLeft.Reason reason) {
    boolean announced = detailed();
    RelayedViewer viewer = relayedViewers.remove(userId);
    if (viewer != null) {
      forget(viewer);
    }
    if (members.containsKey(userId)) {
      return;
    }
    if (announced) {
      announceLeft(userId, reason);
    } else {
      countChanged();
    }
  }

  /**
   * A relay's stream dropped, or it left: viewers no other relay serves keep their place for the
   * grace period (a relay that reconnects names them again).
   */
  private void relayGone(Subscriber relay) {
    relays.remove(relay);
    for (String userId : relay.audience.keySet()) {
      if (!servedByARelay(userId)) {
        startGrace(userId);
      }
    }
    countChanged();
  }

  /** A relayed viewer's grace period ended (under the lock): gone unless a relay named them. */
  boolean relayedGraceExpired(String userId) {
    RelayedViewer viewer = relayedViewers.get(userId);
    if (viewer == null || viewer.graceTimer == null) {
      return false;
    }
    setGrace(viewer, null);
    departed(userId, MemberLeft.Reason.TIMED_OUT);
    return true;
  }

  /**
   * Everyone leaves at once: every stream is ended by {@code end} (finished after its queued frames
   * when the room ends, refused when another instance took the room), every grace period stops.
   */
  void endAll(Consumer<StreamSink> end) {
    for (Member m : members.values()) {
      m.connections.forEach(s -> end.accept(s.sink()));
      if (m.graceTimer != null) {
        m.graceTimer.cancel();
      }
    }
    relays.forEach(s -> end.accept(s.sink()));
    members.values().forEach(m -> m.connections.forEach(events::detach));
    relays.forEach(events::detach);
    relayedViewers.values().stream()
        .filter(v -> v.graceTimer != null)
        .forEach(v -> v.graceTimer.cancel());
    members.clear();
    relays.clear();
    relayedViewers.clear();
    relayedOnlyCount = 0;
    servedRelayedOnlyCount = 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Throttled counts

  /** Large rooms: one count event per presence interval at most, and only if it changed. */
  private void countChanged() {
    if (presenceTimer != null) {
      return;
    }
    long due =
        Math.max(0, lastCountSentAtMs + config.presenceInterval().toMillis() - clock.millis());
    presenceTimer = timers.schedule(presenceDue, due);
  }

  /** The presence timer fired (under the lock): sends the count if it changed. */
  void sendCount(boolean closed) {
    presenceTimer = null;
    long count = count();
    if (closed || count == lastCountSent) {
      return;
    }
    lastCountSent = count;
    lastCountSentAtMs = clock.millis();
    events.publish(
        ServerMessage.newBuilder().setPresence(PresenceCount.newBuilder().setMemberCount(count)));
  }
}
