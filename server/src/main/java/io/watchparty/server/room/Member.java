package io.watchparty.server.room;

import java.util.LinkedHashSet;
import java.util.Set;

/** A user present in a room, with one stream per device. Guarded by the room's lock. */
final class Member {
  final String userId;
  final String displayName;

  /** Home region, from the member's verified token. */
  final String region;

  final Set<Subscriber> connections = new LinkedHashSet<>();

  /** Whether the member's region may watch the room's current title; tracked to notify changes. */
  boolean canWatch = true;

  /** Set while the member has no connection: fires when the reconnect grace period is over. */
  RoomTimers.Timer graceTimer;

  Member(String userId, String displayName, String region) {
    this.userId = userId;
    this.displayName = displayName;
    this.region = region;
  }

  boolean connected() {
    return !connections.isEmpty();
  }
}
