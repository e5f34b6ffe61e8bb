package io.watchparty.server.room;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.server.refusal.RefusedException;
import java.util.Map;
import java.util.UUID;

/** What a room is apart from its parts: its name, settings, and whether it ended. Room lock. */
final class RoomState {
  final UUID id;
  final String name;
  final long createdAtMs;
  private RoomSettings settings; // chat moderation changes its slow mode
  private boolean closed;

  RoomState(RoomRecord record) {
    this.id = record.roomId();
    this.name = record.name();
    this.createdAtMs = record.createdAtMs();
    this.settings = record.settings();
    this.closed = record.closed();
  }

  RoomSettings settings() {
    return settings;
  }

  void setSlowMode(long slowModeMs) {
    settings = settings.toBuilder().setSlowModeMs(slowModeMs).build();
  }

  boolean closed() {
    return closed;
  }

  void markClosed() {
    closed = true;
  }

  void requireOpen() {
    if (closed) {
      throw new RefusedException(
          ErrorReason.ROOM_CLOSED, "the room has ended", Map.of("room_id", id.toString()));
    }
  }

  /** How the room is described to others (no secrets: the invite token is left out). */
  RoomInfo describe(Roles roles, Playback playback, long memberCount, boolean canWatch) {
    return RoomInfo.newBuilder()
        .setRoomId(id.toString())
        .setName(name)
        .setTitleId(playback.titleId())
        .setHostUserId(roles.hostUserId())
        .setHostDisplayName(roles.hostDisplayName())
        .setSettings(settings)
        .setMemberCount(memberCount)
        .setClosed(closed)
        .setCreatedAtMs(createdAtMs)
        .setCanWatch(canWatch)
        .build();
  }
}
