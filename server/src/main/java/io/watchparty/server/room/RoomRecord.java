package io.watchparty.server.room;

import io.watchparty.proto.v1.RoomSettings;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * What Cassandra keeps of a room: enough to rebuild it after a restart (settings, roles, bans,
 * playback), and which server instance owns it ({@code owner}: empty for a room stored before
 * instances owned rooms). Who is connected is not kept: after a restart everyone reconnects.
 */
public record RoomRecord(
    UUID roomId,
    String name,
    RoomSettings settings,
    String hostUserId,
    String hostDisplayName,
    Optional<String> inviteToken,
    Set<String> cohosts,
    Set<String> banned,
    Playback playback,
    boolean closed,
    long createdAtMs,
    Optional<RoomOwner> owner) {

  public RoomRecord {
    cohosts = Set.copyOf(cohosts);
    banned = Set.copyOf(banned);
  }
}
