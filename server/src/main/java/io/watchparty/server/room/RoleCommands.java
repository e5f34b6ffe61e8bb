package io.watchparty.server.room;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.HostLeavePolicy;
import io.watchparty.proto.v1.MemberLeft;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.RoleChanged;
import io.watchparty.proto.v1.RoleCommand;
import io.watchparty.proto.v1.RoomClosed;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.refusal.RefusedException;
import java.util.Map;
import java.util.Optional;

/**
 * How roles change in one room: role commands (co-hosts, host transfer, kick, ban), members leaving
 * for good, host succession, and the room's end when its host leaves a room that ends with them.
 * The rules are {@link Roles}'; this applies them to {@link Presence}, announces each change on the
 * {@link EventStream} and records it for the {@link RoomWriter}. Guarded by the room lock.
 */
final class RoleCommands {
  private final RoomState state;
  private final Roles roles;
  private final Presence presence;
  private final PlaybackControl playback;
  private final EventStream events;
  private final RoomWriter writer;
  private final PartyMembership party;
  private final RoomTimers timers;

  RoleCommands(
      RoomState state,
      Roles roles,
      Presence presence,
      PlaybackControl playback,
      EventStream events,
      RoomWriter writer,
      PartyMembership party,
      RoomTimers timers) {
    this.state = state;
    this.roles = roles;
    this.presence = presence;
    this.playback = playback;
    this.events = events;
    this.writer = writer;
    this.party = party;
    this.timers = timers;
  }

  /** Applies a role command of {@code actor}; returns the sequence of its last event, or 0. */
  long apply(String actor, RoleCommand command) {
    return switch (command.getActionCase()) {
      case GRANT_COHOST -> {
        roles.requireHost(actor);
        // A viewer a relay serves is present too: a browser user may be made co-host.
        String target = presence.requirePresentTarget(command.getGrantCohost());
        if (!roles.grantCohost(target)) {
          yield 0;
        }
        writer.add(at -> new RoomChange.CohostSet(target, true, at));
        yield publishRole(target, Role.COHOST, actor);
      }
      case REVOKE_COHOST -> {
        roles.requireHost(actor);
        String target = Identity.requireUserId(command.getRevokeCohost());
        if (!roles.revokeCohost(target)) {
          yield 0;
        }
        writer.add(at -> new RoomChange.CohostSet(target, false, at));
        yield publishRole(target, Role.VIEWER, actor);
      }
      case TRANSFER_HOST -> {
        roles.requireHost(actor);
        // A viewer a relay serves may take over too: the host can be a browser user.
        Presence.Person target = presence.requirePerson(command.getTransferHost());
        if (roles.isHost(target.userId())) {
          yield 0;
        }
        // The previous host stays in charge of playback as a co-host.
        makeHost(target.userId(), target.displayName(), actor);
        roles.grantCohost(actor);
        writer.add(at -> new RoomChange.CohostSet(actor, true, at));
        yield publishRole(actor, Role.COHOST, actor);
      }
      case KICK -> {
        String target = presence.requirePresentTarget(command.getKick());
        roles.requireMayModerate(actor, target, Sanction.REMOVE);
        removeEverywhere(target, MemberLeft.Reason.KICKED);
        yield events.lastSequence();
      }
      case BAN -> {
        String target = Identity.requireUserId(command.getBan());
        roles.requireMayModerate(actor, target, Sanction.REMOVE);
        if (!roles.ban(target)) {
          yield 0;
        }
        writer.add(at -> new RoomChange.BanSet(target, true, at));
        if (roles.revokeCohost(target)) {
          writer.add(at -> new RoomChange.CohostSet(target, false, at));
        }
        removeEverywhere(target, MemberLeft.Reason.BANNED);
        yield events.lastSequence();
      }
      case UNBAN -> {
        roles.requireController(actor);
        String target = Identity.requireUserId(command.getUnban());
        if (roles.unban(target)) {
          writer.add(at -> new RoomChange.BanSet(target, false, at));
        }
        yield 0;
      }
      case ACTION_NOT_SET ->
          throw new RefusedException(ErrorReason.FIELD_MISSING, "the role command has no action");
    };
  }

  /** A member leaves for good (left, timed out, kicked, banned); their host role passes on. */
  void removeMember(Member member, MemberLeft.Reason reason) {
    if (reason != MemberLeft.Reason.TIMED_OUT) {
      party.left(member.userId);
    }
    presence.removeMember(member, reason);
    if (!presence.isHere(member.userId)) {
      gone(member.userId);
    }
  }

  /** Someone is no longer in the room at all: they hold up no one, and their host role passes. */
  void gone(String userId) {
    playback.forget(userId);
    if (roles.isHost(userId) && !state.closed()) {
      hostLeft();
    }
  }

  private void hostLeft() {
    if (state.settings().getHostLeavePolicy() == HostLeavePolicy.END_ROOM) {
      close("HOST_LEFT");
      return;
    }
    var people = presence.people();
    people.stream()
        .filter(p -> roles.isCohost(p.userId()))
        .findFirst()
        .or(() -> people.stream().findFirst())
        .ifPresent(next -> makeHost(next.userId(), next.displayName(), ""));
  }

  private void makeHost(String userId, String displayName, String byUserId) {
    roles.setHost(userId, displayName);
    if (roles.revokeCohost(userId)) {
      writer.add(at -> new RoomChange.CohostSet(userId, false, at));
    }
    writer.add(at -> new RoomChange.HostSet(userId, displayName, at));
    publishRole(userId, Role.HOST, byUserId);
  }

  private void close(String reason) {
    state.markClosed();
    events.publish(
        ServerMessage.newBuilder().setRoomClosed(RoomClosed.newBuilder().setReason(reason)));
    presence.endAll(StreamSink::finish);
    writer.add(RoomChange.Closed::new);
    // Nothing more is scheduled for a room that ended (its writes are not timers: they finish).
    timers.stopAll();
  }

  private long publishRole(String userId, Role role, String byUserId) {
    return events.publish(
        ServerMessage.newBuilder()
            .setRoleChanged(
                RoleChanged.newBuilder().setUserId(userId).setRole(role).setByUserId(byUserId)));
  }

  /**
   * Removes a kicked or banned user from the room: their own streams end with the refusal, the
   * relays stop counting them, and one MemberLeft tells everyone (relays must then stop serving
   * them).
   */
  private void removeEverywhere(String userId, MemberLeft.Reason reason) {
    boolean wasRelayed = presence.removeFromRelays(userId);
    Optional<Member> member = presence.member(userId);
    if (member.isPresent()) {
      boolean ban = reason == MemberLeft.Reason.BANNED;
      var refusal =
          new RefusedException(
              ban ? ErrorReason.BANNED_FROM_ROOM : ErrorReason.KICKED_FROM_ROOM,
              ban ? "you were banned from the room" : "you were removed from the room",
              Map.of("room_id", state.id.toString()));
      member.get().connections.forEach(s -> s.sink().refuse(refusal));
      removeMember(member.get(), reason);
    } else if (wasRelayed) {
      party.left(userId);
      presence.announceLeft(userId, reason);
      gone(userId);
    }
  }
}
