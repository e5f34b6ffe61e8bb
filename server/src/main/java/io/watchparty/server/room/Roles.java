package io.watchparty.server.room;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.refusal.RefusedException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Who may do what in one room: the host, the co-hosts, the banned, the invite token, and the rules
 * that follow from them. The room's commands and its chat's moderation ask the same rules. Guarded
 * by the room lock.
 */
final class Roles {
  private final UUID roomId;
  private String hostUserId;
  private String hostDisplayName;
  private final Set<String> cohosts;
  private final Set<String> banned;
  private Optional<String> inviteToken;

  Roles(RoomRecord record) {
    this.roomId = record.roomId();
    this.hostUserId = record.hostUserId();
    this.hostDisplayName = record.hostDisplayName();
    this.cohosts = new LinkedHashSet<>(record.cohosts());
    this.banned = new HashSet<>(record.banned());
    this.inviteToken = record.inviteToken();
  }

  String hostUserId() {
    return hostUserId;
  }

  String hostDisplayName() {
    return hostDisplayName;
  }

  Optional<String> inviteToken() {
    return inviteToken;
  }

  boolean isHost(String userId) {
    return hostUserId.equals(userId);
  }

  boolean isCohost(String userId) {
    return cohosts.contains(userId);
  }

  boolean isBanned(String userId) {
    return banned.contains(userId);
  }

  /** Host or co-host, present or not: they may see and enter the room without an invite. */
  boolean isController(String userId) {
    return isHost(userId) || cohosts.contains(userId);
  }

  Role roleOf(String userId) {
    if (isHost(userId)) {
      return Role.HOST;
    }
    return cohosts.contains(userId) ? Role.COHOST : Role.VIEWER;
  }

  // ---------------------------------------------------------------------------------------------
  // Changes (each returns whether anything changed)

  void setHost(String userId, String displayName) {
    hostUserId = userId;
    hostDisplayName = displayName;
  }

  boolean grantCohost(String userId) {
    return !isHost(userId) && cohosts.add(userId);
  }

  boolean revokeCohost(String userId) {
    return cohosts.remove(userId);
  }

  boolean ban(String userId) {
    return banned.add(userId);
  }

  boolean unban(String userId) {
    return banned.remove(userId);
  }

  void setInviteToken(String token) {
    inviteToken = Optional.of(token);
  }

  // ---------------------------------------------------------------------------------------------
  // Rules

  /** Public rooms admit anyone; private ones the holders of the current invite token. */
  boolean mayEnterWith(Visibility visibility, String offered) {
    if (visibility == Visibility.PUBLIC) {
      return true;
    }
    // Constant-time comparison: the token is a secret.
    return inviteToken.isPresent()
        && offered != null
        && MessageDigest.isEqual(
            inviteToken.get().getBytes(StandardCharsets.UTF_8),
            offered.getBytes(StandardCharsets.UTF_8));
  }

  void requireNotBanned(String userId) {
    if (banned.contains(userId)) {
      throw new RefusedException(
          ErrorReason.BANNED_FROM_ROOM,
          "you are banned from this room",
          Map.of("room_id", roomId.toString()));
    }
  }

  void requireHost(String userId) {
    if (!isHost(userId)) {
      throw new RefusedException(ErrorReason.NOT_HOST, "only the host may do this");
    }
  }

  void requireController(String userId) {
    if (!isController(userId)) {
      throw new RefusedException(
          ErrorReason.NOT_HOST_OR_COHOST, "only the host and co-hosts control the room");
    }
  }

  /** The host moderates anyone but themself; co-hosts moderate viewers. */
  void requireMayModerate(String actor, String target, Sanction sanction) {
    requireController(actor);
    if (isHost(target) || actor.equals(target)) {
      throw new RefusedException(
          ErrorReason.INVALID_TARGET, "the host and yourself cannot be " + sanction.participle);
    }
    if (!isHost(actor) && cohosts.contains(target)) {
      throw new RefusedException(
          ErrorReason.NOT_HOST, "only the host may " + sanction.verb + " a co-host");
    }
  }

  /** Authors delete their own messages; the host any message, a co-host a viewer's. */
  void requireMayDelete(String actor, String author) {
    if (actor.equals(author)) {
      return;
    }
    requireController(actor);
    if (!isHost(actor) && roleOf(author) != Role.VIEWER) {
      throw new RefusedException(
          ErrorReason.NOT_HOST, "only the host may delete a message of the host or a co-host");
    }
  }
}
