package io.watchparty.server;

import static io.watchparty.server.testing.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.GetRoomRequest;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.room.FanOutTimes;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.PrometheusText;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The rooms' server-side fan-out times: one sample per event that reached at least one stream,
 * taken once the last stream's frame of it was handed to the transport or dropped (a stalled
 * stream's backlog gives way to a snapshot), on gRPC's own executors as on Netty; and what the
 * observe port serves of them. Values are checked for consistency only, never against a time limit.
 */
class ObserveFanOutIT {
  // A server of its own: its histogram holds only this test's events.
  @RegisterExtension final TestServer wp = TestServer.builder().build();

  @Test
  void theObservePortServesTheWholeHistogramAndPrometheusGauges() throws Exception {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe bob = wp.connect("bob").join(roomId);
    bob.snapshot();
    long sequence = alice.resultOf(alice.command(Commands.play())).getAccepted().getSequence();
    bob.until(m -> m.getSequence() == sequence);
    FanOutTimes times = wp.server().rooms().fanOutTimes();
    await().atMost(StreamProbe.WAIT).until(() -> times.count() == 2); // bob's arrival, the play

    try (ObserveEndpoint observe =
            ObserveEndpoint.start("127.0.0.1", 0, wp.server().storageHealth(), times);
        HttpClient http = HttpClient.newHttpClient()) {
      HttpResponse<String> fanOut = get(http, observe, "/observe/fan-out");
      assertThat(fanOut.statusCode()).isEqualTo(200);
      assertThat(fanOut.headers().firstValue("content-type")).hasValue("application/json");
      assertThat(fanOut.body()).contains("\"unit\":\"microseconds\"", "\"events\":2,");
      Matcher encoded =
          Pattern.compile("\"histogram\":\"([A-Za-z0-9+/=]+)\"").matcher(fanOut.body());
      assertThat(encoded.find()).isTrue();
      Histogram served =
          Histogram.decodeFromCompressedByteBuffer(
              ByteBuffer.wrap(Base64.getDecoder().decode(encoded.group(1))), 0);
      assertThat(served).isEqualTo(times.total());

      assertThat(get(http, observe, "/observe/metrics").body())
          .contains("watchparty_room_fanout_events", "watchparty_room_fanout_seconds");
    }
  }

  @Test
  void theObservePortCountsFinishedCallsByMethodAndStatus() throws Exception {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    String method = "watchparty.v1.RoomService/GetRoom";
    try (ObserveEndpoint observe =
            ObserveEndpoint.start(
                "127.0.0.1", 0, wp.server().storageHealth(), wp.server().rooms().fanOutTimes());
        HttpClient http = HttpClient.newHttpClient()) {
      // Other servers of this JVM count under their own server tag.
      for (int i = 0; i < 3; i++) {
        wp.as("bob").getRoom(GetRoomRequest.newBuilder().setRoomId(roomId).build());
      }
      assertRefused(
          () ->
              wp.as("bob")
                  .getRoom(
                      GetRoomRequest.newBuilder().setRoomId(UUID.randomUUID().toString()).build()),
          Status.Code.NOT_FOUND,
          ErrorReason.ROOM_NOT_FOUND);
      String after = get(http, observe, "/observe/metrics").body();

      String server = wp.server().id();
      assertThat(calls(after, server, method, "OK")).isEqualTo(3);
      assertThat(calls(after, server, method, "NOT_FOUND")).isEqualTo(1);
    }
  }

  /**
   * The value of {@code watchparty_grpc_calls_total} of a server for a method and status code (0 if
   * absent).
   */
  private static double calls(String metrics, String server, String method, String code) {
    return PrometheusText.sum(
        metrics,
        "watchparty_grpc_calls_total",
        Map.of("server", server, "method", method, "code", code));
  }

  private static HttpResponse<String> get(HttpClient http, ObserveEndpoint observe, String path)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + observe.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
