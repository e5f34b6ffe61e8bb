package io.watchparty.server.room;

import java.util.LinkedHashSet;
import java.util.Set;

/** A user present in a room, with one stream per device. Guarded by the room's lock. */
final class Member extends Watcher {
  final Set<Subscriber> connections = new LinkedHashSet<>();

  /** Set while the member has no connection: fires when the reconnect grace period is over. */
  RoomTimers.Timer graceTimer;

  Member(String userId, String displayName, String region) {
    super(userId, displayName, region);
  }

  boolean connected() {
    return !connections.isEmpty();
  }
}
