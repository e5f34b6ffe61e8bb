package io.watchparty.client;

/**
 * Where a {@link RoomConnection} stands, as {@link RoomListener#onConnectionState} announces it. An
 * immutable enum: safe from any thread.
 */
public enum ConnectionState {
  /** The first join is on its way. */
  CONNECTING,
  /** Joined: a fresh snapshot of the room has arrived. */
  JOINED,
  /** The connection dropped; the library reconnects with backoff and will resume. */
  RECONNECTING,
  /** Reconnected and resumed: the missed events follow exactly, in order, after this. */
  RESUMED,
  /**
   * Reconnected, but the missed events were no longer available: a fresh snapshot replaced the
   * room's state ({@link RoomListener#onSnapshot} came first).
   */
  RESYNCED,
  /** Left deliberately ({@link RoomConnection#leave}); nothing reconnects. */
  LEFT,
  /** The server refused or ended the membership (kick, ban, region, ...); nothing reconnects. */
  REFUSED,
  /** The room ended; nothing reconnects. */
  ROOM_CLOSED,
  /** The server stayed unreachable for all the configured reconnect attempts. */
  GAVE_UP,
  /** The client was closed ({@link WatchPartyClient#close}). */
  CLOSED;

  /** Whether the connection is over for good: no further state follows. */
  public boolean isFinal() {
    return this == LEFT
        || this == REFUSED
        || this == ROOM_CLOSED
        || this == GAVE_UP
        || this == CLOSED;
  }
}
