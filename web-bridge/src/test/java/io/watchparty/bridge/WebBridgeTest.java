package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.helidon.json.JsonObject;
import io.helidon.json.JsonParser;
import io.helidon.json.JsonValue;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The bridge as it runs, against a real gRPC server on loopback that the test controls. */
class WebBridgeTest {
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final HealthStatusManager upstreamHealth = new HealthStatusManager();
  private Server upstream;
  private WebBridge bridge;

  @BeforeEach
  void start() throws IOException {
    upstream =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .addService(upstreamHealth.getHealthService())
            .build()
            .start();
    bridge =
        WebBridge.start(
            new BridgeSettings(
                    "127.0.0.1", 0, new BridgeSettings.Address("127.0.0.1", upstream.getPort()))
                .withObservePort(0));
  }

  @AfterEach
  void stop() throws InterruptedException {
    bridge.close();
    upstream.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    http.close();
  }

  @Test
  void readyWhileUpstreamIsServing() {
    await()
        .untilAsserted(
            () -> {
              HttpResponse<String> response = observe("/observe/health");
              assertThat(response.statusCode()).isEqualTo(200);
              JsonObject health = json(response);
              assertThat(health.stringValue("status")).contains("UP");
              JsonObject check = upstreamCheck(health);
              assertThat(check.stringValue("status")).contains("UP");
              JsonObject data = check.objectValue("data").orElseThrow();
              assertThat(data.stringValue("state")).contains("SERVING");
              assertThat(data.stringValue("address")).contains("127.0.0.1:" + upstream.getPort());
            });
  }

  @Test
  void notReadyWhileUpstreamIsNotServing() {
    upstreamHealth.setStatus(
        HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.NOT_SERVING);

    await()
        .untilAsserted(
            () -> {
              HttpResponse<String> response = observe("/observe/health");
              assertThat(response.statusCode()).isEqualTo(503);
              JsonObject health = json(response);
              assertThat(health.stringValue("status")).contains("DOWN");
              JsonObject data = upstreamCheck(health).objectValue("data").orElseThrow();
              assertThat(data.stringValue("state")).contains("NOT_SERVING");
            });
  }

  @Test
  void notReadyOnceUpstreamIsStopped() throws InterruptedException {
    awaitReadiness(200);

    upstream.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);

    await()
        .untilAsserted(
            () -> {
              HttpResponse<String> response = observe("/observe/health/ready");
              assertThat(response.statusCode()).isEqualTo(503);
              JsonObject data = upstreamCheck(json(response)).objectValue("data").orElseThrow();
              assertThat(data.stringValue("state")).contains(UpstreamHealthCheck.UNREACHABLE);
              assertThat(data.stringValue("error")).contains("UNAVAILABLE");
            });
  }

  @Test
  void readyAgainWhenUpstreamServesAgain() {
    upstreamHealth.setStatus(
        HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.NOT_SERVING);
    awaitReadiness(503);

    upstreamHealth.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);

    awaitReadiness(200);
  }

  @Test
  void readyAgainWhenAStoppedUpstreamComesBack() throws Exception {
    int port = upstream.getPort();
    upstream.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    awaitReadiness(503);

    upstream =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
            .addService(new HealthStatusManager().getHealthService())
            .build()
            .start();

    awaitReadiness(200);
  }

  @Test
  void aliveEvenWhenUpstreamIsDown() throws Exception {
    upstream.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    awaitReadiness(503);

    HttpResponse<String> response = observe("/observe/health/live");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response).stringValue("status")).contains("UP");
  }

  @Test
  void metricsArePrometheusText() throws Exception {
    get("/");

    HttpResponse<String> response = observe("/observe/metrics");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("text/plain"));
    assertThat(response.body())
        .contains("# TYPE requests_count_total counter")
        .containsPattern("(?m)^requests_count_total\\{[^}]*} [1-9]")
        .contains("# TYPE thread_count gauge");
  }

  @Test
  void thePublicPortServesNeitherMetricsNorHealth() throws Exception {
    for (String path : new String[] {"/observe/metrics", "/observe/health"}) {
      HttpResponse<String> response = get(path);

      assertThat(response.statusCode()).as(path).isEqualTo(404);
      assertThat(response.headers().firstValue("Content-Type"))
          .hasValue("application/json; charset=UTF-8");
      assertThat(json(response).stringValue("error")).contains("NOT_FOUND");
    }
  }

  @Test
  void healthAndMetricsAreOnTheirOwnPort() throws Exception {
    URI observe = bridge.observeUri().orElseThrow();

    assertThat(observe.getPort()).isPositive().isNotEqualTo(bridge.port());
    assertThat(observe.getHost()).isEqualTo("127.0.0.1");
    assertThat(observe("/observe/metrics").body()).contains("watchparty_bridge_");
    assertThat(observe("/observe/health/live").statusCode()).isEqualTo(200);
    assertThat(observe("/").statusCode()).as("only health and metrics").isEqualTo(404);
  }

  @Test
  void anObservePortOfMinusOneServesNoHealthOrMetrics() throws Exception {
    bridge.close();
    bridge =
        WebBridge.start(
            new BridgeSettings(
                    "127.0.0.1", 0, new BridgeSettings.Address("127.0.0.1", upstream.getPort()))
                .withObservePort(-1));

    assertThat(bridge.observeUri()).isEmpty();
    assertThat(get("/observe/health").statusCode()).isEqualTo(404);
  }

  @Test
  void unknownPathIsNotFoundWithJsonBody() throws Exception {
    HttpResponse<String> response = get("/no/such/page");

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("application/json; charset=UTF-8");
    JsonObject body = json(response);
    assertThat(body.stringValue("error")).contains("NOT_FOUND");
    assertThat(body.stringValue("message")).contains("There is nothing at GET /no/such/page.");
  }

  @Test
  void apiRootDescribesTheBridgeAndItsUpstream() throws Exception {
    HttpResponse<String> response = get("/api");

    assertThat(response.statusCode()).isEqualTo(200);
    JsonObject body = json(response);
    assertThat(body.stringValue("service")).contains("watchparty-web-bridge");
    assertThat(body.stringValue("upstream")).contains("127.0.0.1:" + upstream.getPort());
    assertThat(body.stringValue("health")).as("on the observe port only").isEmpty();
    assertThat(body.stringValue("metrics")).as("on the observe port only").isEmpty();
  }

  @Test
  void pagesCarryNoTestHookByDefault() throws Exception {
    for (String path : new String[] {"/", "/rooms/r1"}) {
      HttpResponse<String> page = get(path);

      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.body()).contains("<head>").doesNotContain("watchparty-test-hook");
    }
  }

  @Test
  void pagesCarryTheTestHookWhenTheSettingIsOn() throws Exception {
    bridge.close();
    bridge =
        WebBridge.start(
            new BridgeSettings(
                    "127.0.0.1", 0, new BridgeSettings.Address("127.0.0.1", upstream.getPort()))
                .withObservePort(0)
                .withTestHook(true));

    HttpResponse<String> page = get("/rooms/r1");

    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body())
        .contains("<head>\n  <meta name=\"watchparty-test-hook\" content=\"on\">")
        .contains("<script type=\"module\" src=\"/assets/room.js\"></script>");
  }

  @Test
  void closeStopsTheServerAndKeepsItsPort() {
    int port = bridge.port();

    bridge.close();

    assertThat(bridge.isRunning()).isFalse();
    assertThat(bridge.port()).isEqualTo(port).isPositive();
    assertThat(bridge.uri()).isEqualTo(URI.create("http://127.0.0.1:" + port));
  }

  @Test
  void refusesToStartOnATakenPort() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      BridgeSettings settings =
          new BridgeSettings(
                  "127.0.0.1",
                  taken.getLocalPort(),
                  new BridgeSettings.Address("127.0.0.1", upstream.getPort()))
              .withObservePort(0);

      // Helidon reports the failed bind itself, with a stack trace, through java.util.logging;
      // the refusal provoked here is checked instead of printed.
      java.util.logging.Logger helidon = java.util.logging.Logger.getLogger("io.helidon.webserver");
      java.util.logging.Level before = helidon.getLevel();
      helidon.setLevel(java.util.logging.Level.OFF);
      try {
        assertThatThrownBy(() -> WebBridge.start(settings))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("http://127.0.0.1:" + taken.getLocalPort());
      } finally {
        helidon.setLevel(before);
      }
    }
  }

  private void awaitReadiness(int status) {
    await().until(() -> observe("/observe/health/ready").statusCode() == status);
  }

  /** A GET on the bridge's observe port. */
  private HttpResponse<String> observe(String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(bridge.observeUri().orElseThrow().resolve(path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(bridge.uri().resolve(path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject json(HttpResponse<String> response) {
    return JsonParser.create(response.body()).readJsonObject();
  }

  private static JsonObject upstreamCheck(JsonObject health) {
    return health.arrayValue("checks").orElseThrow().values().stream()
        .map(JsonValue::asObject)
        .filter(check -> check.stringValue("name").orElse("").equals("upstream"))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no upstream check in " + health));
  }
}
