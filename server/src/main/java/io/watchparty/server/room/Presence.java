package io.watchparty.server.room;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.MemberJoined;
import io.watchparty.proto.v1.MemberLeft;
import io.watchparty.proto.v1.PresenceCount;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.refusal.RefusedException;
import java.time.InstantSource;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

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

  /** In join order: the longest-present member comes first (host succession). */
  private final LinkedHashMap<String, Member> members = new LinkedHashMap<>();

  private final Set<Subscriber> relays = new LinkedHashSet<>();
  private RoomTimers.Timer presenceTimer;
  private long lastCountSentAtMs = Long.MIN_VALUE / 2;
  private long lastCountSent = -1;

  /**
   * @param presenceDue called (on a timer) when a throttled count may be sent; it takes the room
   *     lock and calls {@link #sendCount}
   */
  Presence(
      UUID roomId,
      RoomConfig config,
      InstantSource clock,
      RoomTimers timers,
      EventStream events,
      Roles roles,
      Runnable presenceDue) {
    this.roomId = roomId;
    this.config = config;
    this.clock = clock;
    this.timers = timers;
    this.events = events;
    this.roles = roles;
    this.presenceDue = presenceDue;
  }

  Optional<Member> member(String userId) {
    return Optional.ofNullable(members.get(userId));
  }

  Collection<Member> members() {
    return members.values();
  }

  boolean isEmpty() {
    return members.isEmpty() && relays.isEmpty();
  }

  /** A member, or a viewer some relay serves: they may send commands and chat. */
  boolean isPresent(String userId) {
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

  /** The target of a command: a member with a stream of their own (host transfer needs one). */
  Member requireMember(String userId) {
    return member(Identity.requireUserId(userId)).orElseThrow(() -> notInRoom(userId));
  }

  /** The target of a command: a member, or a viewer a relay serves. */
  String requirePresentTarget(String userId) {
    if (!isPresent(Identity.requireUserId(userId))) {
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

  /** Whether some relay serves {@code userId}. */
  boolean relayed(String userId) {
    return relays.stream().anyMatch(r -> r.audience.containsKey(userId));
  }

  /** Members plus every relay's viewers. */
  long count() {
    long count = members.size();
    for (Subscriber relay : relays) {
      count += relay.audienceCount;
    }
    return count;
  }

  /** Small rooms list their members and announce each join and leave. */
  boolean detailed() {
    return members.size() <= config.presenceDetailLimit();
  }

  /** A member as snapshots and join events show them. */
  io.watchparty.proto.v1.Member describe(Member m) {
    return io.watchparty.proto.v1.Member.newBuilder()
        .setUserId(m.userId)
        .setDisplayName(m.displayName)
        .setRole(roles.roleOf(m.userId))
        .setConnected(m.connected())
        .build();
  }

  // ---------------------------------------------------------------------------------------------
  // Arrivals and departures

  /**
   * How a member's stream arrived: back within the grace period, and whether it resumed by an exact
   * replay of what it missed.
   */
  record Arrival(boolean reconnected, boolean replayed) {}

  /**
   * Adds a member's stream; a newcomer is announced before the stream opens, so its snapshot
   * (numbered with that event) shows the arrival.
   */
  Arrival addConnection(Identity who, Subscriber stream, long lastSequence) {
    Member member = members.get(who.userId());
    if (member == null) {
      member = new Member(who.userId(), who.displayName(), who.region());
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
    return new Arrival(reconnected, events.attach(stream, lastSequence));
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
      if (relays.remove(stream)) {
        countChanged();
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

  void removeRelay(Subscriber relay) {
    events.detach(relay);
    relay.sink().finish();
    relays.remove(relay);
    countChanged();
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
    if (announced) {
      announceLeft(member.userId, reason);
    } else {
      countChanged();
    }
  }

  /** Stops counting a user every relay served; returns whether some relay did. */
  boolean removeFromRelays(String userId) {
    boolean served = false;
    for (Subscriber relay : relays) {
      served |= relay.audience.remove(userId) != null;
    }
    return served;
  }

  void announceLeft(String userId, MemberLeft.Reason reason) {
    events.publish(
        ServerMessage.newBuilder()
            .setMemberLeft(MemberLeft.newBuilder().setUserId(userId).setReason(reason)));
  }

  /** A relay's report of the viewers it serves (each authorized before). */
  void relayAudience(Subscriber relay, long viewerCount, List<String> added, List<String> removed) {
    added.forEach(userId -> relay.audience.merge(userId, 1, Integer::sum));
    removed.forEach(
        userId -> relay.audience.computeIfPresent(userId, (u, n) -> n > 1 ? n - 1 : null));
    relay.audienceCount = viewerCount;
    countChanged();
  }

  /** The room ended: every stream finishes after its queued frames, every grace period stops. */
  void endAll() {
    for (Member m : members.values()) {
      m.connections.forEach(s -> s.sink().finish());
      if (m.graceTimer != null) {
        m.graceTimer.cancel();
      }
    }
    relays.forEach(s -> s.sink().finish());
    members.values().forEach(m -> m.connections.forEach(events::detach));
    relays.forEach(events::detach);
    members.clear();
    relays.clear();
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
