package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.ClockPing;
import io.watchparty.proto.v1.ClockPong;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.CreateRoomResponse;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.TestServer;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A server that has just started knows no title yet: the first rooms created read the catalog from
 * Cassandra. Those reads must not hold the server's call threads (a bounded pool): here Cassandra
 * is reached through a proxy that swallows everything while hundreds of hosts create rooms, and the
 * server must go on answering other calls, without a thread per waiting host.
 */
class ColdCatalogIT {
  private static final int HOSTS = 300;

  /** Threads the waiting creates may add at most: the server's pools exist before them. */
  private static final int THREAD_BUDGET = 64;

  // The request timeout is longer than any wait below: a read the proxy holds is answered only
  // when it lets go.
  @RegisterExtension
  static final TestServer wp =
      TestServer.builder().overLoopback().throughProxy(Duration.ofSeconds(60)).build();

  /** One host's CreateRoom call: remembers how it was answered. */
  private static final class Create implements StreamObserver<CreateRoomResponse> {
    volatile CreateRoomResponse created;
    volatile Status failed;

    @Override
    public void onNext(CreateRoomResponse response) {
      created = response;
    }

    @Override
    public void onError(Throwable t) {
      failed = Status.fromThrowable(t);
    }

    @Override
    public void onCompleted() {}

    boolean answered() {
      return created != null || failed != null;
    }
  }

  private static int liveThreads() {
    return ManagementFactory.getThreadMXBean().getThreadCount();
  }

  /** A room made by alice, or null when storage is not reachable yet. */
  private static CreateRoomResponse createUnlessStorageIsUnavailable() {
    try {
      return wp.createRoom("alice", Visibility.PUBLIC);
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
        return null;
      }
      throw e;
    }
  }

  @Test
  void hostsWaitingForAColdTitleHoldNoThreadsAndOtherCallsAreAnswered() throws Exception {
    wp.restart(); // a new server: its catalog cache is empty
    ManagedChannel channel = wp.newChannel();
    List<Create> creates = new ArrayList<>();
    try {
      var clock = TestServer.withToken(RoomServiceGrpc.newBlockingStub(channel), wp.token("bob"));
      assertThat(clock.getServerTime(ClockPing.getDefaultInstance())).isNotNull(); // warm pools
      int before = liveThreads();
      wp.proxy().blackHole(); // the title's read is sent and never answered

      var hosts = TestServer.withToken(RoomServiceGrpc.newStub(channel), wp.token("alice"));
      for (int i = 0; i < HOSTS; i++) {
        Create create = new Create();
        hosts.createRoom(
            CreateRoomRequest.newBuilder()
                .setTitleId("sintel")
                .setName("Party " + i)
                .setSettings(RoomSettings.newBuilder().setVisibility(Visibility.PUBLIC))
                .build(),
            create);
        creates.add(create);
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> wp.server().catalog().stats().requestCount() >= HOSTS);

      // Every call thread would be waiting for the title if the lookup held one: this call would
      // then wait behind them until Cassandra answered.
      ClockPong pong =
          clock
              .withDeadlineAfter(20, TimeUnit.SECONDS)
              .getServerTime(ClockPing.getDefaultInstance());
      int during = liveThreads();
      System.out.printf(
          "ColdCatalogIT: %d creates waiting for a cold title: %d live threads before, %d during%n",
          HOSTS, before, during);

      assertThat(pong.getServerSendTimeMs()).isPositive();
      assertThat(creates).as("the title is still being read").noneMatch(Create::answered);
      assertThat(during - before)
          .as("threads added while %d creates wait (%d before, %d during)", HOSTS, before, during)
          .isLessThan(THREAD_BUDGET);

      // The held read fails when the proxy drops its connections: every host is answered.
      wp.proxy().restore();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> creates.stream().allMatch(Create::answered));
      assertThat(creates)
          .allSatisfy(
              c ->
                  assertThat(c.created != null || c.failed.getCode() == Status.Code.UNAVAILABLE)
                      .as("a room, or UNAVAILABLE while storage failed: %s", c.failed)
                      .isTrue());
      // And the catalog serves on once Cassandra answers, which is when the driver has
      // reconnected through the restored proxy (its retry delay grows to 1 s): until then a create
      // is refused UNAVAILABLE, never answered otherwise.
      CreateRoomResponse served =
          await()
              .atMost(Duration.ofSeconds(30))
              .pollInterval(Duration.ofMillis(200))
              .until(ColdCatalogIT::createUnlessStorageIsUnavailable, Objects::nonNull);
      assertThat(served.getRoom().getTitleId()).isEqualTo("big-buck-bunny");
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
