package io.watchparty.server.room;

/**
 * Someone in a room whose right to watch its title is tracked, so that they are told when it
 * changes: a member, or a viewer a relay serves. Guarded by the room's lock.
 */
abstract class Watcher {
  final String userId;
  final String displayName;

  /** Home region, from the user's verified token (passed on by the relay for its viewers). */
  final String region;

  /** Whether the region may watch the room's current title, as the user was last told. */
  boolean canWatch = true;

  Watcher(String userId, String displayName, String region) {
    this.userId = userId;
    this.displayName = displayName;
    this.region = region;
  }
}
