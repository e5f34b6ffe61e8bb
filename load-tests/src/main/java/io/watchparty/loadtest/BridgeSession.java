package io.watchparty.loadtest;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A demo user signed in to the web bridge through the JDK's HTTP client: the {@code wp_session}
 * cookie the SSE tabs of that user send. Rooms and commands go over gRPC, as the hosts are native
 * clients.
 */
final class BridgeSession {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final String cookie;

  private BridgeSession(String cookie) {
    this.cookie = cookie;
  }

  /** {@code POST /api/session {"demoUser": userId}}: a session for that demo user. */
  static BridgeSession signIn(HttpClient http, URI bridge, String userId) throws IOException {
    var response =
        send(http, post(bridge.resolve("/api/session"), "{\"demoUser\":\"" + userId + "\"}", null));
    check(response, "sign-in of " + userId);
    String cookie =
        response.headers().allValues("Set-Cookie").stream()
            .filter(c -> c.startsWith("wp_session="))
            .map(c -> c.substring(0, c.indexOf(';') < 0 ? c.length() : c.indexOf(';')))
            .findFirst()
            .orElseThrow(
                () -> new IOException("the sign-in of " + userId + " set no wp_session cookie"));
    return new BridgeSession(cookie);
  }

  /** The {@code Cookie} header value, {@code wp_session=...}. */
  String cookie() {
    return cookie;
  }

  private static HttpRequest.Builder post(URI uri, String json, String cookie) {
    var request =
        HttpRequest.newBuilder(uri)
            .header("Content-Type", "application/json")
            .header("X-WatchParty-Request", "1")
            .POST(HttpRequest.BodyPublishers.ofString(json));
    return cookie == null ? request : request.header("Cookie", cookie);
  }

  private static HttpResponse<String> send(HttpClient http, HttpRequest.Builder request)
      throws IOException {
    try {
      return http.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private static void check(HttpResponse<String> response, String what) throws IOException {
    if (response.statusCode() / 100 != 2) {
      throw new IOException(what + " answered " + response.statusCode() + " " + response.body());
    }
  }
}
