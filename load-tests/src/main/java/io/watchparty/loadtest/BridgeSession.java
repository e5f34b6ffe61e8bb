package io.watchparty.loadtest;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.CommandAccepted;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.CreateRoomResponse;
import io.watchparty.proto.v1.PlaybackCommand;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.Visibility;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A demo user signed in to the web bridge: the {@code wp_session} cookie and the few JSON calls the
 * load test makes besides the event streams (sign-in, room creation, host commands), through the
 * JDK's HTTP client. Bodies use the proto3 JSON mapping of {@code watchparty.v1}, as the bridge
 * does.
 */
final class BridgeSession {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final JsonFormat.Printer JSON =
      JsonFormat.printer().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSE = JsonFormat.parser().ignoringUnknownFields();

  private static final Pattern SSE_CLIENTS =
      Pattern.compile("(?m)^watchparty_bridge_sse_clients\\{[^}]*} (\\S+)$");

  private final HttpClient http;
  private final URI bridge;
  private final String userId;
  private final String cookie;

  private BridgeSession(HttpClient http, URI bridge, String userId, String cookie) {
    this.http = http;
    this.bridge = bridge;
    this.userId = userId;
    this.cookie = cookie;
  }

  /**
   * The SSE streams the bridge holds, from its Prometheus gauge {@code
   * watchparty_bridge_sse_clients} at {@code /observe/metrics}; empty if it has none.
   */
  static OptionalLong sseClients(HttpClient http, URI bridge) throws IOException {
    var response = send(http, HttpRequest.newBuilder(bridge.resolve("/observe/metrics")).GET());
    check(response, "/observe/metrics");
    Matcher gauge = SSE_CLIENTS.matcher(response.body());
    return gauge.find()
        ? OptionalLong.of((long) Double.parseDouble(gauge.group(1)))
        : OptionalLong.empty();
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
    return new BridgeSession(http, bridge, userId, cookie);
  }

  String userId() {
    return userId;
  }

  /** The {@code Cookie} header value, {@code wp_session=...}. */
  String cookie() {
    return cookie;
  }

  /** Creates a public room showing {@code titleId}; returns its id. */
  String createPublicRoom(String titleId) throws IOException {
    var request =
        CreateRoomRequest.newBuilder()
            .setTitleId(titleId)
            .setName("SSE load test")
            .setSettings(RoomSettings.newBuilder().setVisibility(Visibility.PUBLIC))
            .build();
    var response = send(http, post(bridge.resolve("/api/rooms"), JSON.print(request), cookie));
    return parse(response, "room creation", CreateRoomResponse.newBuilder()).getRoom().getRoomId();
  }

  /** Seeks the room to {@code positionMs}; returns the room sequence of the resulting event. */
  long seek(String roomId, long positionMs) throws IOException {
    var command =
        Command.newBuilder()
            .setPlayback(
                PlaybackCommand.newBuilder()
                    .setSeek(PlaybackCommand.Seek.newBuilder().setPositionMs(positionMs)))
            .build();
    var response =
        send(
            http,
            post(
                bridge.resolve("/api/rooms/" + roomId + "/commands"), JSON.print(command), cookie));
    long sequence = parse(response, "seek command", CommandAccepted.newBuilder()).getSequence();
    if (sequence == 0) {
      throw new IOException("the seek to " + positionMs + " changed nothing (sequence 0)");
    }
    return sequence;
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

  private static <B extends Message.Builder> B parse(
      HttpResponse<String> response, String what, B into) throws IOException {
    check(response, what);
    try {
      PARSE.merge(response.body(), into);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException(what + " answered JSON that is not its message: " + e.getMessage(), e);
    }
    return into;
  }
}
