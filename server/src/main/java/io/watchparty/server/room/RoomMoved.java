package io.watchparty.server.room;

/**
 * A write of a room was refused because another instance owns the room now (its epoch is newer than
 * the writer's): this instance must let the room go. Thrown by a {@link RoomStore}.
 */
public final class RoomMoved extends RuntimeException {
  private final RoomOwner owner;

  public RoomMoved(RoomOwner owner) {
    super("the room is owned by " + owner, null, false, false);
    this.owner = owner;
  }

  /** The owner storage holds now. */
  public RoomOwner owner() {
    return owner;
  }
}
