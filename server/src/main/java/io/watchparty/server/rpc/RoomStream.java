package io.watchparty.server.rpc;

import com.google.errorprone.annotations.concurrent.GuardedBy;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import java.util.function.IntConsumer;

/**
 * One member's (or relay's) room stream. The first message must be a Join; a refused join ends the
 * stream with the refusal's status. After that, a bad message is answered with a rejected
 * CommandResult and the stream (and the room) carries on.
 *
 * <p>Inbound flow control is manual: the stream asks the transport for one message at a time, and
 * asks for the next only once the current one is handled. A join completes later when its room is
 * still loading (after a restart every viewer reconnects at once), and no thread waits for it: the
 * messages a client sent behind its join stay in the transport until the join is settled, and are
 * then handled in order.
 *
 * <p>gRPC delivers one call's events one at a time, but a join completes on another thread, so the
 * stream's state is guarded by its monitor; everything outbound goes through its {@link Outbox}.
 */
final class RoomStream implements StreamObserver<ClientMessage> {
  private final RoomRegistry rooms;
  private final Identity who;
  private final Outbox outbox;
  private final IntConsumer inbound;
  private final InstantSource clock;
  private final ErrorMapper errors;

  @GuardedBy("this")
  private Room room;

  @GuardedBy("this")
  private Subscriber subscriber;

  /** A join was sent and is not settled yet. */
  @GuardedBy("this")
  private boolean joining;

  /** The client went away while its join was pending: leave as soon as it is settled. */
  @GuardedBy("this")
  private boolean goneWhileJoining;

  /** Left the room, or was refused: the stream is ending and whatever it sends is ignored. */
  @GuardedBy("this")
  private boolean ended;

  /**
   * @param inbound asks the transport for that many more client messages
   */
  RoomStream(
      RoomRegistry rooms,
      Identity who,
      Outbox outbox,
      IntConsumer inbound,
      InstantSource clock,
      ErrorMapper errors) {
    this.rooms = rooms;
    this.who = who;
    this.outbox = outbox;
    this.inbound = inbound;
    this.clock = clock;
    this.errors = errors;
  }

  /** Asks for the first message; call once the call is set up for manual flow control. */
  void start() {
    inbound.accept(1);
  }

  @Override
  public synchronized void onNext(ClientMessage message) {
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
    Room joined = room;
    Subscriber self = subscriber;
    try {
      Utf8Guard.requireValid(message);
      switch (message.getKindCase()) {
        case PING ->
            joined.reply(
                self,
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
              joined,
              self,
              message.getRequestId(),
              joined.command(who, message.getCommand()),
              CommandResult.Builder::setAccepted);
        }
        case SEND_CHAT ->
            replyWhenDone(
                joined,
                self,
                message.getRequestId(),
                joined.chat().send(who, message.getSendChat()),
                CommandResult.Builder::setChatStored);
        case REACT -> joined.chat().react(who, message.getReact());
        case BUFFERING -> joined.buffering(self, message.getBuffering());
        case LEAVE -> {
          ended = true;
          joined.leave(self);
        }
        case RELAY_AUDIENCE -> joined.relayAudience(self, message.getRelayAudience());
        case JOIN, KIND_NOT_SET ->
            throw new RefusedException(ErrorReason.FIELD_MISSING, "the message is empty");
      }
    } catch (RuntimeException refused) {
      replyTo(
          joined,
          self,
          CommandResult.newBuilder()
              .setRequestId(message.getRequestId())
              .setRejected(errors.statusOf(refused))
              .build());
    }
    if (!ended) {
      inbound.accept(1);
    }
  }

  @GuardedBy("this")
  private void join(String requestId, ClientMessage message) {
    if (subscriber != null) {
      reject(requestId, ErrorReason.ALREADY_JOINED, "this stream has already joined a room", false);
      inbound.accept(1);
      return;
    }
    if (ended) {
      return; // refused before: the stream is closing, a second try must not slip in
    }
    CompletionStage<Subscriber> admitted;
    try {
      Utf8Guard.requireValid(message);
      Join join = message.getJoin();
      admitted = rooms.join(join.getRoomId(), who, outbox, join);
    } catch (RuntimeException refused) {
      admitted = CompletableFuture.failedFuture(refused);
    }
    joining = true;
    admitted.whenComplete(this::joined);
  }

  /** The join is settled: serve the stream, or end it with the refusal. */
  private synchronized void joined(Subscriber admitted, Throwable refused) {
    joining = false;
    if (refused != null) {
      ended = true;
      outbox.close(errors.exceptionOf(refused));
      return;
    }
    subscriber = admitted;
    room = admitted.room();
    if (goneWhileJoining) {
      room.disconnected(subscriber);
      return;
    }
    inbound.accept(1);
  }

  @GuardedBy("this")
  private void reject(String requestId, ErrorReason reason, String message, boolean endStream) {
    var refusal = new RefusedException(reason, message);
    if (endStream) {
      outbox.close(ErrorMapper.toStatusException(refusal));
      return;
    }
    replyTo(
        room,
        subscriber,
        CommandResult.newBuilder()
            .setRequestId(requestId)
            .setRejected(ErrorMapper.toRpcStatus(refusal))
            .build());
  }

  /** Answers a request once its stage completes: the outcome, or the refusal's status. */
  private <T> void replyWhenDone(
      Room joined,
      Subscriber self,
      String requestId,
      CompletionStage<T> stage,
      BiConsumer<CommandResult.Builder, T> outcome) {
    stage.whenComplete(
        (value, failure) -> {
          var result = CommandResult.newBuilder().setRequestId(requestId);
          if (failure != null) {
            result.setRejected(errors.statusOf(failure));
          } else {
            outcome.accept(result, value);
          }
          replyTo(joined, self, result.build());
        });
  }

  private static void replyTo(Room joined, Subscriber self, CommandResult result) {
    joined.reply(self, ServerMessage.newBuilder().setCommandResult(result).build().toByteArray());
  }

  @Override
  public synchronized void onError(Throwable cancelled) {
    outbox.abandon(); // nobody is reading any more
    disconnect();
  }

  @Override
  public synchronized void onCompleted() {
    // The client closed its side: it will send nothing more, so this stream is done.
    outbox.finish();
    disconnect();
  }

  @GuardedBy("this")
  private void disconnect() {
    if (joining) {
      goneWhileJoining = true;
    } else if (subscriber != null && !ended) {
      room.disconnected(subscriber);
    }
  }
}
