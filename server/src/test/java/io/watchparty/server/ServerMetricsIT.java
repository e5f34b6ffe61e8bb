package io.watchparty.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.PrometheusText;
import io.watchparty.server.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two servers in one JVM (as the fleet's tests run them) each report their own rooms and calls,
 * under their own {@code server} tag: a gauge no longer binds to the first server that registered
 * its name.
 */
class ServerMetricsIT {
  @RegisterExtension final TestServer first = TestServer.builder().build();
  @RegisterExtension final TestServer second = TestServer.builder().build();

  @Test
  void twoServersInOneJvmEachReportTheirOwnRoomsAndCalls() throws Exception {
    for (int i = 0; i < 2; i++) {
      first.createRoom("alice", Visibility.PUBLIC);
    }
    second.createRoom("bob", Visibility.PUBLIC);

    String metrics = metricsOf(first);
    String created = "watchparty.v1.RoomService/CreateRoom";
    assertThat(first.server().id()).isNotEqualTo(second.server().id());
    assertThat(rooms(metrics, first)).isEqualTo(2);
    assertThat(rooms(metrics, second)).isEqualTo(1);
    assertThat(calls(metrics, first, created)).isEqualTo(2);
    assertThat(calls(metrics, second, created)).isEqualTo(1);
  }

  private static double rooms(String metrics, TestServer wp) {
    return PrometheusText.sum(
        metrics, "watchparty_rooms_loaded", Map.of("server", wp.server().id()));
  }

  private static double calls(String metrics, TestServer wp, String method) {
    return PrometheusText.sum(
        metrics,
        "watchparty_grpc_calls_total",
        Map.of("server", wp.server().id(), "method", method, "code", "OK"));
  }

  private static String metricsOf(TestServer wp) throws Exception {
    try (ObserveEndpoint observe =
            ObserveEndpoint.start(
                "127.0.0.1", 0, wp.server().storageHealth(), wp.server().rooms().fanOutTimes());
        HttpClient http = HttpClient.newHttpClient()) {
      return http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + observe.port() + "/observe/metrics"))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    }
  }
}
