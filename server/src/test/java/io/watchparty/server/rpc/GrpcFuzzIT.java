package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.watchparty.proto.ByteArrayMarshaller;
import io.watchparty.proto.v1.AccountServiceGrpc;
import io.watchparty.proto.v1.CatalogAdminServiceGrpc;
import io.watchparty.proto.v1.CatalogServiceGrpc;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.ClockPing;
import io.watchparty.proto.v1.DemoAuthServiceGrpc;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.ProtoArbitraries;
import io.watchparty.server.testing.RawRequests;
import io.watchparty.server.testing.Refusals;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.sessions.JqwikSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * Every unary method of the API, called over a real HTTP/2 connection with requests that jqwik's
 * generators make from the request type's descriptor ({@link ProtoArbitraries}): random values of
 * every field, edge cases, long strings and lists, and bytes mutated into no message of the type.
 * Seeded and bounded, as a part of the normal test run. Whatever arrives, the answer is a response
 * or a status a client can act on (never {@code UNKNOWN}, {@code INTERNAL} or a timeout, always
 * with an {@code ErrorInfo} reason), nothing is logged at ERROR, the connection keeps serving, and
 * the room the fuzzing aimed at still works afterwards.
 */
class GrpcFuzzIT {
  /** Change it to explore further; a failure names the seed it ran with. */
  private static final String SEED = "20261207";

  private static final int REQUESTS_PER_METHOD = 60;

  private static final List<ServiceDescriptor> SERVICES =
      List.of(
          RoomServiceGrpc.getServiceDescriptor(),
          ChatServiceGrpc.getServiceDescriptor(),
          CatalogServiceGrpc.getServiceDescriptor(),
          CatalogAdminServiceGrpc.getServiceDescriptor(),
          AccountServiceGrpc.getServiceDescriptor(),
          DemoAuthServiceGrpc.getServiceDescriptor());

  @RegisterExtension static final TestServer wp = TestServer.builder().overLoopback().build();

  private final ListAppender<ILoggingEvent> log = new ListAppender<>();
  private final Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);

  @BeforeEach
  void watchTheLog() {
    log.start();
    root.addAppender(log);
  }

  @AfterEach
  void stopWatching() {
    root.detachAppender(log);
  }

  @Test
  void everyUnaryMethodAnswersFuzzedRequestsWithAResponseOrAReasonedStatus() throws Exception {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    ManagedChannel channel = wp.newChannel();
    // As a user and as the catalog admin: the admin's calls get past the first check.
    Map<String, Channel> callers =
        Map.of(
            "alice", signedIn(channel, "alice"),
            "admin", signedIn(channel, "admin"));
    List<String> wrong = new ArrayList<>();
    Map<String, Integer> answers = new TreeMap<>();
    int calls = 0;
    try {
      for (MethodDescriptor<?, ?> method : unaryMethods()) {
        Message prototype = prototypeOf(method);
        List<byte[]> requests = new ArrayList<>();
        JqwikSession.run(
            SEED,
            () ->
                ProtoArbitraries.requestBytes(prototype)
                    .sampleStream()
                    .limit(REQUESTS_PER_METHOD)
                    .forEach(requests::add));
        for (int i = 0; i < requests.size(); i++) {
          String caller = i % 2 == 0 ? "alice" : "admin";
          calls++;
          String outcome = call(callers.get(caller), method, requests.get(i), answers);
          if (outcome != null) {
            wrong.add(method.getFullMethodName() + " as " + caller + ": " + outcome);
          }
        }
      }
      System.out.printf(
          "GrpcFuzzIT: %d fuzzed calls to %d methods (seed %s), answered %s%n",
          calls, unaryMethods().size(), SEED, answers);

      assertThat(wrong).as("answers no client can act on (seed %s)", SEED).isEmpty();
      assertThat(log.list.stream().filter(e -> e.getLevel() == Level.ERROR).map(Object::toString))
          .as("ERROR lines while fuzzing (seed %s)", SEED)
          .isEmpty();
      // The same connection still serves, and the room still works.
      var stub = TestServer.withToken(RoomServiceGrpc.newBlockingStub(channel), wp.token("alice"));
      assertThat(stub.getServerTime(ClockPing.getDefaultInstance()).getServerSendTimeMs())
          .isPositive();
      StreamProbe alice = wp.connect("alice").join(roomId);
      long before = alice.snapshot().getPlayback().getSequence();
      long after = alice.resultOf(alice.command(Commands.seek(5_000))).getAccepted().getSequence();
      assertThat(after).isGreaterThan(before);
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aRoomStreamAnswersFuzzedMessagesOrEndsWithAReason() throws Exception {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    ManagedChannel channel = wp.newChannel();
    Channel bob = signedIn(channel, "bob");
    List<byte[]> fuzzed = new ArrayList<>();
    JqwikSession.run(
        SEED,
        () ->
            ProtoArbitraries.requestBytes(ClientMessage.getDefaultInstance())
                .sampleStream()
                .limit(STREAMS * MESSAGES_PER_STREAM)
                .forEach(fuzzed::add));
    List<String> wrong = new ArrayList<>();
    try {
      for (int stream = 0; stream < STREAMS; stream++) {
        RawStream raw = new RawStream();
        var requests = RawRequests.connect(bob, raw);
        requests.onNext(
            ClientMessage.newBuilder()
                .setRequestId("join")
                .setJoin(Join.newBuilder().setRoomId(roomId))
                .build()
                .toByteArray());
        assertThat(raw.next().hasSnapshot()).isTrue();
        for (int i = 0; i < MESSAGES_PER_STREAM && !raw.ended(); i++) {
          requests.onNext(fuzzed.get(stream * MESSAGES_PER_STREAM + i));
        }
        // Then a ping: answered by a pong, unless the stream was ended for a reason.
        requests.onNext(
            ClientMessage.newBuilder()
                .setPing(ClockPing.newBuilder().setClientSendTimeMs(4242))
                .build()
                .toByteArray());
        String outcome = raw.pongOrReasonedEnd(4242);
        if (outcome != null) {
          wrong.add("stream " + stream + ": " + outcome);
        }
        requests.onCompleted();
      }
      assertThat(wrong).as("streams left without an answer (seed %s)", SEED).isEmpty();
      assertThat(log.list.stream().filter(e -> e.getLevel() == Level.ERROR).map(Object::toString))
          .as("ERROR lines while fuzzing (seed %s)", SEED)
          .isEmpty();
      StreamProbe alice = wp.connect("alice").join(roomId);
      long before = alice.snapshot().getPlayback().getSequence();
      long after = alice.resultOf(alice.command(Commands.seek(7_000))).getAccepted().getSequence();
      assertThat(after).isGreaterThan(before);
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private static final int STREAMS = 20;
  private static final int MESSAGES_PER_STREAM = 25;

  /** A room stream read as bytes: its messages, and how it ended. */
  private static final class RawStream implements StreamObserver<byte[]> {
    private final BlockingQueue<ServerMessage> messages = new LinkedBlockingQueue<>();

    /** Completes with the stream's failure, or null once it ended OK. */
    private final CompletableFuture<Throwable> end = new CompletableFuture<>();

    @Override
    public void onNext(byte[] frame) {
      try {
        messages.add(ServerMessage.parseFrom(frame));
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError("the server sent a frame that is no ServerMessage", e);
      }
    }

    @Override
    public void onError(Throwable t) {
      end.complete(t);
    }

    @Override
    public void onCompleted() {
      end.complete(null);
    }

    boolean ended() {
      return end.isDone();
    }

    ServerMessage next() throws InterruptedException {
      ServerMessage message = messages.poll(20, TimeUnit.SECONDS);
      assertThat(message).as("a message within 20 s").isNotNull();
      return message;
    }

    /** Null once the pong came or the stream ended with a usable status; else what went wrong. */
    String pongOrReasonedEnd(long clientSendTimeMs) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (System.nanoTime() < deadline) {
        ServerMessage message = messages.poll(100, TimeUnit.MILLISECONDS);
        if (message != null
            && message.hasPong()
            && message.getPong().getClientSendTimeMs() == clientSendTimeMs) {
          return null;
        }
        if (message == null && end.isDone()) {
          Throwable failure = end.join();
          return failure == null
              ? null
              : unusable(
                  new StatusRuntimeException(
                      Status.fromThrowable(failure), Status.trailersFromThrowable(failure)));
        }
      }
      return "neither a pong nor an end within 20 s";
    }
  }

  /** Null when the answer is one a client can act on; otherwise what was wrong with it. */
  private static String call(
      Channel channel,
      MethodDescriptor<?, ?> method,
      byte[] request,
      Map<String, Integer> answers) {
    MethodDescriptor<byte[], byte[]> raw =
        method.toBuilder(new ByteArrayMarshaller(), new ByteArrayMarshaller()).build();
    try {
      ClientCalls.blockingUnaryCall(
          channel, raw, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), request);
      answers.merge("OK", 1, Integer::sum);
      return null;
    } catch (StatusRuntimeException e) {
      String reason;
      try {
        reason = Refusals.errorInfo(e).getReason();
      } catch (RuntimeException | AssertionError noInfo) {
        reason = "no reason";
      }
      answers.merge(e.getStatus().getCode() + " " + reason, 1, Integer::sum);
      return unusable(e);
    }
  }

  private static String unusable(StatusRuntimeException e) {
    Status.Code code = e.getStatus().getCode();
    if (code == Status.Code.UNKNOWN
        || code == Status.Code.INTERNAL
        || code == Status.Code.DEADLINE_EXCEEDED) {
      return e.getStatus().toString();
    }
    try {
      String reason = Refusals.errorInfo(e).getReason();
      return reason.isEmpty() ? "no reason: " + e.getStatus() : null;
    } catch (RuntimeException | AssertionError noInfo) {
      return "no ErrorInfo: " + e.getStatus();
    }
  }

  private static Channel signedIn(Channel channel, String userId) {
    return ClientInterceptors.intercept(
        channel, MetadataUtils.newAttachHeadersInterceptor(TestServer.bearer(wp.token(userId))));
  }

  private static List<MethodDescriptor<?, ?>> unaryMethods() {
    return SERVICES.stream()
        .flatMap(service -> service.getMethods().stream())
        .filter(m -> m.getType() == MethodDescriptor.MethodType.UNARY)
        .<MethodDescriptor<?, ?>>map(m -> m)
        .toList();
  }

  private static Message prototypeOf(MethodDescriptor<?, ?> method) {
    return (Message)
        ((MethodDescriptor.PrototypeMarshaller<?>) method.getRequestMarshaller())
            .getMessagePrototype();
  }
}
