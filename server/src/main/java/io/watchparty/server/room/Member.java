package io.watchparty.server.room;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;

/** A user present in a room, with one stream per device. Guarded by the room's lock. */
final class Member {
  final String userId;
  final String displayName;
  final Set<Subscriber> connections = new LinkedHashSet<>();
  /** Set while the member has no connection: fires when the reconnect grace period is over. */
  ScheduledFuture<?> graceTimer;

  Member(String userId, String displayName) {
    this.userId = userId;
    this.displayName = displayName;
  }

  boolean connected() {
    return !connections.isEmpty();
  }
}
