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

  /** The owner {@code instance} becomes by a claim over {@code epoch}. */
  static RoomOwner next(Instances.Instance instance, long epoch) {
    return new RoomOwner(instance.id(), instance.address(), epoch + 1);
  }

  /** The refusal that sends a client of {@code roomId} to this owner. */
  RefusedException movedHere(UUID roomId) {
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
