package io.watchparty.server.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.watchparty.proto.v1.BufferingReport;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.ClockPing;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.CommandResult;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.Leave;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.ServerMessage.KindCase;
import io.watchparty.proto.v1.Snapshot;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * One client side of a room stream, as a test sees it: what it sends, every ServerMessage it
 * received (in a queue the test takes from, waiting a bounded time), and how the stream ended.
 *
 * <p>A stalled probe requests one message (the snapshot) and then never reads again, so the
 * server's flow control sees a receiver that is not ready.
 */
public final class StreamProbe implements ClientResponseObserver<ClientMessage, ServerMessage> {
  /** How long a test waits for a message or for the end of the stream before it fails. */
  public static final Duration WAIT = Duration.ofSeconds(20);

  private final String userId;
  private final boolean stalled;
  private final BlockingQueue<ServerMessage> received = new LinkedBlockingQueue<>();
  private final CountDownLatch ended = new CountDownLatch(1);
  private final AtomicInteger requestIds = new AtomicInteger();
  private final ArrayDeque<String> taken = new ArrayDeque<>();
  private volatile ClientCallStreamObserver<ClientMessage> requests;
  private volatile Status status;
  private volatile Metadata trailers;

  StreamProbe(String userId, boolean stalled) {
    this.userId = userId;
    this.stalled = stalled;
  }

  /** Opens a room stream on any channel (to a server in another process, say) with a token. */
  public static StreamProbe open(Channel channel, String userId, String token) {
    StreamProbe probe = new StreamProbe(userId, false);
    TestServer.withToken(RoomServiceGrpc.newStub(channel), token).connect(probe);
    return probe;
  }

  public String userId() {
    return userId;
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  @Override
  public void beforeStart(ClientCallStreamObserver<ClientMessage> requestStream) {
    this.requests = requestStream;
    if (stalled) {
      requestStream.disableAutoRequestWithInitial(1);
    }
  }

  /** A StreamObserver is not thread-safe: one sender at a time. */
  public synchronized void send(ClientMessage message) {
    requests.onNext(message);
  }

  public StreamProbe join(String roomId) {
    return join(roomId, "");
  }

  public StreamProbe join(String roomId, String inviteToken) {
    return resume(roomId, inviteToken, 0);
  }

  public StreamProbe resume(String roomId, String inviteToken, long lastSequence) {
    send(
        ClientMessage.newBuilder()
            .setJoin(
                Join.newBuilder()
                    .setRoomId(roomId)
                    .setInviteToken(inviteToken)
                    .setLastSequence(lastSequence))
            .build());
    return this;
  }

  /** Sends a command and returns its request id. */
  public String command(Command command) {
    String requestId = userId + "-" + requestIds.incrementAndGet();
    send(ClientMessage.newBuilder().setRequestId(requestId).setCommand(command).build());
    return requestId;
  }

  public void ping(long clientSendTimeMs) {
    send(
        ClientMessage.newBuilder()
            .setPing(ClockPing.newBuilder().setClientSendTimeMs(clientSendTimeMs))
            .build());
  }

  /** Reports that the player is buffering (true) or ready again (false). */
  public void buffering(boolean buffering) {
    send(
        ClientMessage.newBuilder()
            .setBuffering(BufferingReport.newBuilder().setBuffering(buffering))
            .build());
  }

  public void leave() {
    send(ClientMessage.newBuilder().setLeave(Leave.getDefaultInstance()).build());
  }

  /** Closes the client's side of the stream (half-close): it will send nothing more. */
  public synchronized void closeSide() {
    requests.onCompleted();
  }

  /** Drops the connection without a Leave, as a lost network would. */
  public synchronized void disconnect() {
    requests.cancel("the test dropped the connection", null);
  }

  /** A stalled probe starts reading again. */
  public void read(int messages) {
    requests.request(messages);
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  @Override
  public void onNext(ServerMessage message) {
    received.add(message);
  }

  @Override
  public void onError(Throwable failure) {
    status = Status.fromThrowable(failure);
    trailers = Status.trailersFromThrowable(failure);
    ended.countDown();
  }

  @Override
  public void onCompleted() {
    status = Status.OK;
    ended.countDown();
  }

  /** The next message; fails if none arrives within {@link #WAIT}. */
  public ServerMessage next() {
    try {
      ServerMessage message = received.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (message == null) {
        throw new AssertionError(
            userId
                + " received no message within "
                + WAIT
                + " (stream ended: "
                + status
                + "); the last ones taken: "
                + taken);
      }
      synchronized (taken) {
        if (taken.size() == 20) {
          taken.removeFirst();
        }
        taken.addLast(message.getKindCase() + "#" + message.getSequence());
      }
      return message;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** The next message, which must be of this kind. */
  public ServerMessage next(KindCase kind) {
    ServerMessage message = next();
    assertThat(message.getKindCase()).as("%s's next message: %s", userId, message).isEqualTo(kind);
    return message;
  }

  /** The first snapshot frame; it must be the next message. */
  public Snapshot snapshot() {
    return next(KindCase.SNAPSHOT).getSnapshot();
  }

  /** Every message up to and including the first that matches. */
  public List<ServerMessage> until(Predicate<ServerMessage> last) {
    List<ServerMessage> messages = new ArrayList<>();
    while (true) {
      ServerMessage message = next();
      messages.add(message);
      if (last.test(message)) {
        return messages;
      }
    }
  }

  /** Skips messages of other kinds up to the next one of this kind. */
  public ServerMessage skipTo(KindCase kind) {
    List<ServerMessage> messages = until(m -> m.getKindCase() == kind);
    return messages.getLast();
  }

  /** The result of a command this probe sent, skipping room events queued before it. */
  public CommandResult resultOf(String requestId) {
    return until(
            m ->
                m.getKindCase() == KindCase.COMMAND_RESULT
                    && m.getCommandResult().getRequestId().equals(requestId))
        .getLast()
        .getCommandResult();
  }

  /** Messages received and not taken yet. */
  public int pending() {
    return received.size();
  }

  // ---------------------------------------------------------------------------------------------
  // The end of the stream

  /** Waits for the server to end the stream and returns its status. */
  public Status awaitEnd() {
    try {
      if (!ended.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(userId + "'s stream did not end within " + WAIT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
    return status;
  }

  public boolean ended() {
    return ended.getCount() == 0;
  }

  /** Waits for the stream to end refused with this code and reason; returns the ErrorInfo. */
  public ErrorInfo awaitRefusal(Status.Code code, ErrorReason reason) {
    Status end = awaitEnd();
    assertThat(end.getCode()).as("%s's stream ended with %s", userId, end).isEqualTo(code);
    com.google.rpc.Status details = StatusProto.fromStatusAndTrailers(end, trailers);
    ErrorInfo info = Refusals.errorInfo(details);
    assertThat(info.getReason()).isEqualTo(reason.name());
    return info;
  }
}
