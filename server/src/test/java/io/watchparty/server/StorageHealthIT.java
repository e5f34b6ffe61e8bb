package io.watchparty.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.watchparty.proto.v1.AccountServiceGrpc;
import io.watchparty.proto.v1.CatalogAdminServiceGrpc;
import io.watchparty.proto.v1.CatalogServiceGrpc;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.server.testing.TcpProxy;
import io.watchparty.server.testing.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Health while Cassandra is down: the server reaches the node through a {@link TcpProxy} the test
 * takes down as a crash would (connections closed, new ones refused) and brings back.
 */
class StorageHealthIT {
  private static final List<String> SERVICES =
      List.of(
          "",
          RoomServiceGrpc.SERVICE_NAME,
          AccountServiceGrpc.SERVICE_NAME,
          ChatServiceGrpc.SERVICE_NAME,
          CatalogServiceGrpc.SERVICE_NAME,
          CatalogAdminServiceGrpc.SERVICE_NAME);

  @RegisterExtension
  static final TestServer wp = TestServer.builder().throughProxy(Duration.ofSeconds(1)).build();

  @Test
  void chatIsNotServingWhileStorageIsDownAndRoomsServeOn() throws Exception {
    try (ObserveEndpoint observe =
        ObserveEndpoint.start(
            "127.0.0.1", 0, wp.server().storageHealth(), wp.server().rooms().fanOutTimes())) {
      assertThat(statuses())
          .allSatisfy((service, status) -> assertThat(status).isEqualTo(ServingStatus.SERVING));
      assertThat(health(observe).statusCode()).isEqualTo(200);

      wp.proxy().down();

      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> statuses().get(ChatServiceGrpc.SERVICE_NAME) == ServingStatus.NOT_SERVING);
      assertThat(statuses())
          .containsEntry("", ServingStatus.SERVING)
          .containsEntry(RoomServiceGrpc.SERVICE_NAME, ServingStatus.SERVING)
          .containsEntry(AccountServiceGrpc.SERVICE_NAME, ServingStatus.SERVING)
          .containsEntry(CatalogServiceGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING)
          .containsEntry(CatalogAdminServiceGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
      HttpResponse<String> down = health(observe);
      assertThat(down.statusCode()).isEqualTo(503);
      assertThat(down.body().replace(" ", ""))
          .contains("\"name\":\"cassandra\",\"status\":\"DOWN\"")
          .contains("\"nodesUp\":0")
          .contains(ChatServiceGrpc.SERVICE_NAME);

      wp.proxy().restore();

      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> statuses().values().stream().allMatch(s -> s == ServingStatus.SERVING));
      assertThat(health(observe).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aFrozenNodeCountsAsDownUntilItAnswersAgain() throws Exception {
    try (ObserveEndpoint observe =
        ObserveEndpoint.start(
            "127.0.0.1", 0, wp.server().storageHealth(), wp.server().rooms().fanOutTimes())) {
      assertThat(health(observe).statusCode()).isEqualTo(200);

      // As a SIGSTOPped node: connections stay open, nothing is answered. The driver lists the
      // node up until its heartbeat gives up on it (30 s of idle, then a timeout); health must not
      // wait for that.
      wp.proxy().blackHole();
      try {
        await().atMost(Duration.ofSeconds(10)).until(() -> health(observe).statusCode() == 503);
        assertThat(health(observe).body().replace(" ", ""))
            .contains("\"name\":\"cassandra\",\"status\":\"DOWN\"")
            .contains("\"answering\":false")
            .contains(ChatServiceGrpc.SERVICE_NAME);
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> statuses().get(ChatServiceGrpc.SERVICE_NAME) == ServingStatus.NOT_SERVING);

      } finally {
        wp.proxy().restore();
      }

      await().atMost(Duration.ofSeconds(30)).until(() -> health(observe).statusCode() == 200);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> statuses().values().stream().allMatch(s -> s == ServingStatus.SERVING));
    }
  }

  private static Map<String, ServingStatus> statuses() {
    var health = HealthGrpc.newBlockingStub(wp.channel());
    return SERVICES.stream()
        .collect(
            Collectors.toMap(
                Function.identity(),
                service ->
                    health
                        .check(HealthCheckRequest.newBuilder().setService(service).build())
                        .getStatus()));
  }

  private static HttpResponse<String> health(ObserveEndpoint observe)
      throws IOException, InterruptedException {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(
          HttpRequest.newBuilder(
                  URI.create("http://127.0.0.1:" + observe.port() + "/observe/health"))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }
}
