package io.watchparty.server.rpc;

import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.ClockPong;
import io.watchparty.proto.v1.CommandResult;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.refusal.RefusedException;
import io.watchparty.server.room.Room;
import io.watchparty.server.room.RoomRegistry;
import io.watchparty.server.room.Subscriber;
import java.time.InstantSource;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;

/**
 * One member's (or relay's) room stream. The first message must be a Join; a refused join ends the
 * stream with the refusal's status. After that, a bad message is answered with a rejected
 * CommandResult and the stream (and the room) carries on.
 *
 * <p>gRPC delivers inbound messages of one call one at a time, so this class needs no locking of
 * its own; everything outbound goes through the stream's {@link Outbox}.
 */
final class RoomStream implements StreamObserver<ClientMessage> {
  private final RoomRegistry rooms;
  private final Identity who;
  private final Outbox outbox;
  private final InstantSource clock;
  private final ErrorMapper errors;

  private Room room;
  private Subscriber subscriber;

  /** Left the room, or was refused: the stream is ending and whatever it sends is ignored. */
  private boolean ended;

  RoomStream(
      RoomRegistry rooms, Identity who, Outbox outbox, InstantSource clock, ErrorMapper errors) {
    this.rooms = rooms;
    this.who = who;
    this.outbox = outbox;
    this.clock = clock;
    this.errors = errors;
  }

  @Override
  public void onNext(ClientMessage message) {
    long receivedAtMs = clock.millis();
    if (message.hasJoin()) {
      join(message.getRequestId(), message);
      return;
    }
    if (subscriber == null) {
      if (!ended) {
        ended = true;
        reject(message.getRequestId(), ErrorReason.NOT_JOINED, "send join first", true);
      }
      return;
    }
    try {
      Utf8Guard.requireValid(message);
      switch (message.getKindCase()) {
        case PING ->
            room.reply(
                subscriber,
                ServerMessage.newBuilder()
                    .setPong(
                        ClockPong.newBuilder()
                            .setClientSendTimeMs(message.getPing().getClientSendTimeMs())
                            .setServerReceiveTimeMs(receivedAtMs)
                            .setServerSendTimeMs(clock.millis()))
                    .build()
                    .toByteArray());
        case COMMAND -> {
          rooms.checkCommandRate(who);
          replyWhenDone(
              message.getRequestId(),
              room.command(who, message.getCommand()),
              CommandResult.Builder::setAccepted);
        }
        case SEND_CHAT ->
            replyWhenDone(
                message.getRequestId(),
                room.chat().send(who, message.getSendChat()),
                CommandResult.Builder::setChatStored);
        case REACT -> room.chat().react(who, message.getReact());
        case BUFFERING -> room.buffering(subscriber, message.getBuffering());
        case LEAVE -> {
          ended = true;
          room.leave(subscriber);
        }
        case RELAY_AUDIENCE -> room.relayAudience(subscriber, message.getRelayAudience());
        case JOIN, KIND_NOT_SET ->
            throw new RefusedException(ErrorReason.FIELD_MISSING, "the message is empty");
      }
    } catch (RuntimeException refused) {
      replyToThis(
          CommandResult.newBuilder()
              .setRequestId(message.getRequestId())
              .setRejected(errors.statusOf(refused))
              .build());
    }
  }

  private void join(String requestId, ClientMessage message) {
    if (subscriber != null) {
      reject(requestId, ErrorReason.ALREADY_JOINED, "this stream has already joined a room", false);
      return;
    }
    if (ended) {
      return; // refused before: the stream is closing, a second try must not slip in
    }
    try {
      Utf8Guard.requireValid(message);
      Join join = message.getJoin();
      subscriber = rooms.join(join.getRoomId(), who, outbox, join);
      room = subscriber.room();
    } catch (RuntimeException refused) {
      ended = true;
      outbox.close(errors.exceptionOf(refused));
    }
  }

  private void reject(String requestId, ErrorReason reason, String message, boolean endStream) {
    var refusal = new RefusedException(reason, message);
    if (endStream) {
      outbox.close(ErrorMapper.toStatusException(refusal));
      return;
    }
    replyToThis(
        CommandResult.newBuilder()
            .setRequestId(requestId)
            .setRejected(ErrorMapper.toRpcStatus(refusal))
            .build());
  }

  /** Answers a request once its stage completes: the outcome, or the refusal's status. */
  private <T> void replyWhenDone(
      String requestId, CompletionStage<T> stage, BiConsumer<CommandResult.Builder, T> outcome) {
    stage.whenComplete(
        (value, failure) -> {
          var result = CommandResult.newBuilder().setRequestId(requestId);
          if (failure != null) {
            result.setRejected(errors.statusOf(failure));
          } else {
            outcome.accept(result, value);
          }
          replyToThis(result.build());
        });
  }

  private void replyToThis(CommandResult result) {
    room.reply(
        subscriber, ServerMessage.newBuilder().setCommandResult(result).build().toByteArray());
  }

  @Override
  public void onError(Throwable cancelled) {
    outbox.abandon(); // nobody is reading any more
    disconnect();
  }

  @Override
  public void onCompleted() {
    // The client closed its side: it will send nothing more, so this stream is done.
    outbox.finish();
    disconnect();
  }

  private void disconnect() {
    if (subscriber != null && !ended) {
      room.disconnected(subscriber);
    }
  }
}
