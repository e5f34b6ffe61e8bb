package io.watchparty.loadtest;

import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Base64;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * The platform server's own fan-out times (event numbered under the room lock to its frame handed
 * to gRPC for the room's last stream), read from its observe port's {@code /observe/fan-out}: the
 * whole histogram since the server started, so that a reading before a run subtracted from one
 * after it is exactly the run's events.
 */
final class ServerFanOut {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final URI uri;

  ServerFanOut(InetSocketAddress observe) {
    this.uri =
        URI.create(
            "http://" + observe.getHostString() + ":" + observe.getPort() + "/observe/fan-out");
  }

  /** Every event the server recorded so far, in microseconds. */
  Histogram read() throws IOException, InterruptedException {
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build()) {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(uri).timeout(TIMEOUT).build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IOException(uri + " answered " + response.statusCode());
      }
      String encoded =
          JsonParser.parseString(response.body()).getAsJsonObject().get("histogram").getAsString();
      return Histogram.decodeFromCompressedByteBuffer(
          ByteBuffer.wrap(Base64.getDecoder().decode(encoded)), 0);
    } catch (DataFormatException | RuntimeException e) {
      throw new IOException(uri + " served no readable histogram: " + e.getMessage(), e);
    }
  }

  /** The events between two readings. */
  static Histogram between(Histogram before, Histogram after) {
    Histogram run = after.copy();
    run.subtract(before);
    return run;
  }
}
