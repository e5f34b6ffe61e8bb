package io.watchparty.bridge.relay;

/**
 * Why a browser's event stream ended: for good (the {@code reason} of its {@code ended} event), or
 * for this connection only ({@link #SHUTTING_DOWN}, {@link #DISCONNECTED}).
 */
public enum EndReason {
  /** A host or co-host removed the user from the room. */
  KICKED("You were removed from the room."),
  /** A host or co-host banned the user from the room. */
  BANNED("You were banned from the room."),
  /** The room ended. */
  ROOM_CLOSED("The party has ended."),
  /** The user left the room (from this or another tab or device). */
  LEFT("You left the room."),
  /** The server no longer admits the user (e.g. the room is gone); the message says why. */
  REFUSED("The room can no longer be watched."),
  /** The bridge is shutting down; a reconnect reaches another one (or this one after a restart). */
  SHUTTING_DOWN("The server is restarting."),
  /** The browser closed the connection; nobody is left to tell. */
  DISCONNECTED("The connection was closed.");

  private final String message;

  EndReason(String message) {
    this.message = message;
  }

  /** One sentence for the person watching. */
  public String message() {
    return message;
  }

  /** Whether a reconnect of the same browser must be told to stop rather than be served. */
  public boolean stopsReconnects() {
    return this != SHUTTING_DOWN && this != DISCONNECTED;
  }
}
