package io.watchparty.server.room;

/**
 * One change of a room's stored state, as the room made it. The store turns each into a targeted
 * write (a set element added or removed, columns replaced). The room's own row is written under its
 * owner's epoch, in the order the room sends its writes (one at a time: see {@code RoomWriter});
 * the rows outside it (memberships, the directory) carry {@link #writeMicros()}, increasing per
 * room, so Cassandra keeps them in the order they happened and a retried write cannot undo a later
 * one.
 */
public sealed interface RoomChange {
  /** The Cassandra write timestamp, in microseconds. */
  long writeMicros();

  record PlaybackSaved(Playback playback, long writeMicros) implements RoomChange {}

  record CohostSet(String userId, boolean cohost, long writeMicros) implements RoomChange {}

  record BanSet(String userId, boolean banned, long writeMicros) implements RoomChange {}

  record HostSet(String userId, String displayName, long writeMicros) implements RoomChange {}

  record InviteSet(String inviteToken, long writeMicros) implements RoomChange {}

  /** A user is in the room (hosts it, or joined it) or left it for good: "your parties". */
  record MembershipSet(String userId, boolean member, long sinceMs, long writeMicros)
      implements RoomChange {}

  /** The room ended: it is marked closed and leaves the public directory. */
  record Closed(long writeMicros) implements RoomChange {}
}
