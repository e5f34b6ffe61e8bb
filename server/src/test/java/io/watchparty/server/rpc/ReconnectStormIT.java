package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.auth.DemoUsers;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * After a restart every viewer of a room reconnects at once, while the room is still loading from
 * Cassandra. The server must not hold a thread per waiting viewer: here the room's load is held
 * (Cassandra reached through a proxy that swallows everything) while two thousand streams over a
 * real HTTP/2 connection ask to join it, and the JVM's live platform threads are counted.
 */
class ReconnectStormIT {
  private static final int VIEWERS = 2_000;

  /** Threads the storm may add at most: the server's fixed pools are created before it. */
  private static final int THREAD_BUDGET = 64;

  // The request timeout is longer than any wait below: a read the proxy holds is answered only
  // when it lets go.
  @RegisterExtension
  static final TestServer wp =
      TestServer.builder()
          .overLoopback()
          .throughProxy(Duration.ofSeconds(60))
          .intercept(new JoinCounter())
          .build();

  private static final AtomicInteger joinsReceived = new AtomicInteger();

  /** Counts the Join messages the server has taken off the transport. */
  private static final class JoinCounter implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
        @Override
        public void onMessage(Q message) {
          if (message instanceof ClientMessage m && m.hasJoin()) {
            joinsReceived.incrementAndGet();
          }
          super.onMessage(message);
        }
      };
    }
  }

  /** One viewer's stream: remembers how it was answered. */
  private static final class Viewer
      implements ClientResponseObserver<ClientMessage, ServerMessage> {
    volatile boolean snapshot;
    volatile Status ended;
    ClientCallStreamObserver<ClientMessage> requests;

    @Override
    public void beforeStart(ClientCallStreamObserver<ClientMessage> stream) {
      requests = stream;
    }

    @Override
    public void onNext(ServerMessage message) {
      if (message.hasSnapshot()) {
        snapshot = true;
      }
    }

    @Override
    public void onError(Throwable t) {
      ended = Status.fromThrowable(t);
    }

    @Override
    public void onCompleted() {
      ended = Status.OK;
    }

    boolean answered() {
      return snapshot || ended != null;
    }
  }

  private static int liveThreads() {
    return ManagementFactory.getThreadMXBean().getThreadCount();
  }

  @Test
  void joinsWaitingForARoomThatIsLoadingHoldNoThreadsAndAllGetAnAnswer() throws Exception {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    wp.restart(); // the room is in Cassandra only
    var registry = wp.server().rooms();
    assertThat(registry.loadedRooms()).isZero();
    String region = DemoUsers.find("bob").orElseThrow().region();
    ManagedChannel channel = wp.newChannel();
    List<Viewer> viewers = new ArrayList<>();
    try {
      // Warm the channel and the server's pools before the baseline.
      assertThat(wp.as("bob").getServerTime(io.watchparty.proto.v1.ClockPing.getDefaultInstance()))
          .isNotNull();
      int before = liveThreads();
      wp.proxy().blackHole(); // the room's read is sent and never answered

      for (int i = 0; i < VIEWERS; i++) {
        Identity viewer = new Identity("storm-" + i, "Viewer " + i, region, true, false, false);
        Viewer stream = new Viewer();
        TestServer.withToken(
                RoomServiceGrpc.newStub(channel),
                wp.server().tokens().issue(viewer, Duration.ofHours(1)))
            .connect(stream);
        stream.requests.onNext(
            ClientMessage.newBuilder()
                .setRequestId("join")
                .setJoin(Join.newBuilder().setRoomId(roomId))
                .build());
        viewers.add(stream);
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> joinsReceived.get() >= VIEWERS);
      int during = liveThreads();
      System.out.printf(
          "ReconnectStormIT: %d joins waiting for a loading room: %d live threads before, %d during%n",
          VIEWERS, before, during);

      assertThat(viewers).as("the room is still loading").noneMatch(Viewer::answered);
      assertThat(during - before)
          .as("threads added while %d joins wait (%d before, %d during)", VIEWERS, before, during)
          .isLessThan(THREAD_BUDGET);

      // The held read fails when the proxy drops its connections: every join is answered.
      wp.proxy().restore();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> viewers.stream().allMatch(Viewer::answered));
      assertThat(viewers)
          .allSatisfy(
              v ->
                  assertThat(v.snapshot || v.ended.getCode() == Status.Code.UNAVAILABLE)
                      .as("a snapshot, or UNAVAILABLE while storage failed: %s", v.ended)
                      .isTrue());
      // And the server serves on: the room loads once Cassandra answers.
      StreamProbe bob = wp.connect("bob").join(roomId);
      assertThat(bob.snapshot().getRoom().getRoomId()).isEqualTo(roomId);
      assertThat(registry.loadedRooms()).isEqualTo(1);
    } finally {
      viewers.forEach(v -> v.requests.cancel("test over", null));
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
