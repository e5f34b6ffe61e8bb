package io.watchparty.bridge;

import io.grpc.CallCredentials;
import io.grpc.Deadline;
import io.watchparty.bridge.relay.RoomOwners;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.RoomServiceGrpc;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The calls a browser makes about one room (chat, commands, moderation, history, its grant): they
 * go to the server instance that owns the room, as far as the bridge knows, and follow a refusal
 * {@code ROOM_MOVED} to the owner it names ({@link RoomOwners#call}). Every attempt of one request
 * shares the deadline a browser's request waits at most. Calls not about a room (sign-in, catalog,
 * directory, creating a room) go to the configured upstream ({@link Upstream}).
 */
final class RoomCalls {
  private final RoomOwners owners;

  RoomCalls(RoomOwners owners) {
    this.owners = owners;
  }

  /** A call of the room service about {@code roomId}, as {@code caller}. */
  <T> T rooms(
      String roomId,
      CallCredentials caller,
      Function<RoomServiceGrpc.RoomServiceBlockingStub, T> call) {
    Deadline deadline = deadline();
    return owners.call(
        roomId,
        channel ->
            call.apply(
                RoomServiceGrpc.newBlockingStub(channel)
                    .withCallCredentials(caller)
                    .withDeadline(deadline)));
  }

  /** A call of the chat service about {@code roomId}, as {@code caller}. */
  <T> T chat(
      String roomId,
      CallCredentials caller,
      Function<ChatServiceGrpc.ChatServiceBlockingStub, T> call) {
    Deadline deadline = deadline();
    return owners.call(
        roomId,
        channel ->
            call.apply(
                ChatServiceGrpc.newBlockingStub(channel)
                    .withCallCredentials(caller)
                    .withDeadline(deadline)));
  }

  private static Deadline deadline() {
    return Deadline.after(Upstream.REQUEST_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }
}
