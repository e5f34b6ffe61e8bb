package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.watchparty.bridge.relay.RelaySettings;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.PlaybackCommand;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.SendCommandRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A browser that stops reading must not slow the room down for anyone else: it is resynchronized
 * from a snapshot or closed, while a healthy browser in the same room gets every event in order.
 */
class SlowBrowserIT {
  private static final Duration STALL = Duration.ofSeconds(1);
  private static final int MAX_EVENTS = 6_000;

  @RegisterExtension
  static final Platform platform =
      Platform.builder()
          .bridge(
              settings ->
                  settings
                      .withSendBuffer(16 * 1024)
                      .withStreams(
                          settings.maxStreams(),
                          settings.userStreams(),
                          settings.heartbeat(),
                          STALL)
                      .withRelay(
                          new RelaySettings(
                              64,
                              64,
                              Duration.ofSeconds(5),
                              Duration.ofMillis(100),
                              Duration.ofSeconds(2))))
          .build();

  @Test
  void aStalledBrowserIsResyncedOrClosedAndTheOthersGetEveryEventInOrder() throws IOException {
    try (Browser alice = platform.browser("alice");
        Browser bob = platform.browser("bob");
        Browser chiara = platform.browser("chiara")) {
      String roomId = EventStreamsIT.createRoom(alice, "PUBLIC");
      SseProbe host = alice.events(roomId);
      host.next("snapshot");
      bob.ok("/api/rooms/" + roomId + "/join", "{}");
      SseProbe healthy = bob.events(roomId);
      long from = Long.parseLong(healthy.next("snapshot").id());
      chiara.ok("/api/rooms/" + roomId + "/join", "{}");

      try (Socket stalled = stalledStream(chiara, roomId)) {
        await().until(() -> platform.bridge().relays().viewerCount() == 3);
        RoomServiceGrpc.RoomServiceBlockingStub commands = platform.grpcAs("alice");
        int sent = 0;
        // Commands until the stalled browser is let go, within a bound.
        while (platform.bridge().relays().viewerCount() > 2 && sent < MAX_EVENTS) {
          commands.sendCommand(
              SendCommandRequest.newBuilder()
                  .setRoomId(roomId)
                  .setCommand(
                      Command.newBuilder()
                          .setPlayback(
                              PlaybackCommand.newBuilder()
                                  .setSeek(
                                      PlaybackCommand.Seek.newBuilder().setPositionMs(sent * 10L))))
                  .build());
          sent++;
        }
        assertThat(platform.bridge().relays().viewerCount())
            .as("the stalled browser was let go after %d events", sent)
            .isEqualTo(2);

        long expected = from;
        int received = 0;
        while (received < sent) {
          SseProbe.Event event = healthy.next("playback_changed");
          assertThat(Long.parseLong(event.id())).isGreaterThan(expected);
          expected = Long.parseLong(event.id());
          received++;
        }
        assertThat(sent).as("events before the stalled browser was let go").isPositive();
        assertThat(drainsToEndOfStream(stalled))
            .as("the bridge closed the stalled connection")
            .isTrue();
      }
    }
  }

  /** Opens an event stream with a tiny receive window and never reads it. */
  private static Socket stalledStream(Browser browser, String roomId) throws IOException {
    String cookie =
        browser
            .post("/api/session", "{\"demoUser\":\"chiara\"}")
            .headers()
            .firstValue("Set-Cookie")
            .orElseThrow()
            .split(";")[0];
    Socket socket = new Socket();
    socket.setReceiveBufferSize(2048);
    var uri = browser.uri("/api/rooms/" + roomId + "/events");
    socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5_000);
    socket
        .getOutputStream()
        .write(
            ("GET "
                    + uri.getPath()
                    + " HTTP/1.1\r\nHost: "
                    + uri.getHost()
                    + ":"
                    + uri.getPort()
                    + "\r\nAccept: text/event-stream\r\nCookie: "
                    + cookie
                    + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
    return socket;
  }

  private static boolean drainsToEndOfStream(Socket socket) throws IOException {
    socket.setSoTimeout(10_000);
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[64 * 1024];
    try {
      while (true) {
        if (in.read(buffer) < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (IOException reset) {
      return true; // closed with a reset: closed all the same
    }
  }
}
