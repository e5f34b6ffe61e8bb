package io.watchparty.server.room;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import java.util.Map;
import java.util.UUID;

/**
 * The server instance that owns a room, and the epoch of its ownership: every claim of the room
 * writes the epoch it read plus one, so the epoch only grows, and a write of the room's state is
 * stored only under the epoch it was made in (see {@link RoomStore#apply}).
 *
 * @param instanceId the owning instance ({@link Instances.Instance#id})
 * @param address where clients reach it (host:port of its gRPC server)
 * @param epoch the ownership's number, from 1 at the room's creation
 */
public record RoomOwner(String instanceId, String address, long epoch) {
  /**
   * Where the epoch sits in a room's sequence numbers: its high bits, above 2^32 numbers per
   * ownership.
   */
  static final int EPOCH_SHIFT = 32;

  /**
   * The number a room's events count from under this ownership: the epoch in the high bits, so that
   * sequences keep increasing across owners (and restarts, each a new claim), and a client resuming
   * with a number from an earlier owner is never replayed this one's events as if they followed it:
   * it gets a fresh snapshot. (2^21 epochs keep every number exact in a JavaScript number.)
   */
  long firstSequence() {
    return epoch << EPOCH_SHIFT;
  }

  /** The owner {@code instance} becomes by a claim over {@code epoch}. */
  static RoomOwner next(Instances.Instance instance, long epoch) {
    return new RoomOwner(instance.id(), instance.address(), epoch + 1);
  }

  /** The refusal that sends a client of {@code roomId} to this owner. */
  public RefusedException movedHere(UUID roomId) {
    return new RefusedException(
        ErrorReason.ROOM_MOVED,
        "another server instance serves this room now; reconnect to " + address,
        Map.of(
            "room_id",
            roomId.toString(),
            "owner_address",
            address,
            "owner_epoch",
            Long.toString(epoch)));
  }
}
