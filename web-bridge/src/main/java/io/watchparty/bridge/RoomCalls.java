package io.watchparty.bridge;

import io.grpc.CallCredentials;
import io.grpc.Channel;
import io.grpc.Deadline;
import io.grpc.stub.AbstractStub;
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
    return call(roomId, caller, RoomServiceGrpc::newBlockingStub, call);
  }

  /** A call of the chat service about {@code roomId}, as {@code caller}. */
  <T> T chat(
      String roomId,
      CallCredentials caller,
      Function<ChatServiceGrpc.ChatServiceBlockingStub, T> call) {
    return call(roomId, caller, ChatServiceGrpc::newBlockingStub, call);
  }

  /** A call of any service about {@code roomId}, under one deadline for all its hops. */
  private <S extends AbstractStub<S>, T> T call(
      String roomId, CallCredentials caller, Function<Channel, S> stub, Function<S, T> call) {
    Deadline deadline = deadline();
    return owners.call(
        roomId,
        channel ->
            call.apply(stub.apply(channel).withCallCredentials(caller).withDeadline(deadline)));
  }

  private static Deadline deadline() {
    return Deadline.after(Upstream.REQUEST_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }
}
