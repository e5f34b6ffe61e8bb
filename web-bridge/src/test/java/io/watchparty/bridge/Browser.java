package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.helidon.json.JsonObject;
import io.helidon.json.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A browser as the bridge sees it: a cookie jar with the session, the page's headers on every
 * request that changes state, and event streams read as {@code EventSource} reads them.
 */
final class Browser implements AutoCloseable {
  private final Platform platform;
  private final HttpClient http;
  private final List<SseProbe> streams = new ArrayList<>();

  private Browser(Platform platform) {
    this.platform = platform;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .cookieHandler(new CookieManager())
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  /** A browser with no session yet. */
  static Browser anonymous(Platform platform) {
    return new Browser(platform);
  }

  static Browser signedIn(Platform platform, String userId) {
    Browser browser = new Browser(platform);
    HttpResponse<String> response =
        browser.post("/api/session", "{\"demoUser\":\"" + userId + "\"}");
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return browser;
  }

  HttpResponse<String> get(String path) {
    return send(HttpRequest.newBuilder(platform.uri(path)).GET());
  }

  /** A POST as the page sends it: JSON, with the page's request header. */
  HttpResponse<String> post(String path, String json) {
    return send(
        HttpRequest.newBuilder(platform.uri(path))
            .header("Content-Type", "application/json")
            .header(CrossSiteGuard.HEADER, "1")
            .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  HttpResponse<String> delete(String path) {
    return send(
        HttpRequest.newBuilder(platform.uri(path)).header(CrossSiteGuard.HEADER, "1").DELETE());
  }

  HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return http.send(
          request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Posts and expects 200: the answer's JSON. */
  JsonObject ok(String path, String json) {
    HttpResponse<String> response = post(path, json);
    assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
    return parse(response.body());
  }

  /** Gets and expects 200: the answer's JSON. */
  JsonObject ok(String path) {
    HttpResponse<String> response = get(path);
    assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
    return parse(response.body());
  }

  /** Opens the room's event stream, resuming after {@code lastEventId} when it is not null. */
  SseProbe events(String roomId, String lastEventId) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(platform.uri("/api/rooms/" + roomId + "/events")).GET();
    if (lastEventId != null) {
      request.header("Last-Event-ID", lastEventId);
    }
    SseProbe probe = SseProbe.open(http, request.build());
    streams.add(probe);
    return probe;
  }

  SseProbe events(String roomId) {
    return events(roomId, null);
  }

  static JsonObject parse(String json) {
    return JsonParser.create(json).readJsonObject();
  }

  URI uri(String path) {
    return platform.uri(path);
  }

  @Override
  public void close() {
    streams.forEach(SseProbe::close);
    // Not http.close(), which waits without bound for exchanges to end: a stream this test left
    // open should fail the test, not hang the build.
    http.shutdown();
    try {
      if (!http.awaitTermination(Duration.ofSeconds(20))) {
        http.shutdownNow();
        throw new AssertionError("the browser still had open exchanges 20 s after it closed");
      }
    } catch (InterruptedException e) {
      http.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
