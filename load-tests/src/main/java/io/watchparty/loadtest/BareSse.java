package io.watchparty.loadtest;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.watchparty.proto.v1.ServerMessage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The bare Helidon SE SSE fan-out the web bridge is compared with, inside {@link BaselineServer}'s
 * JVM: the bridge's three requests a tab makes ({@code POST /api/session}, {@code POST
 * /api/rooms/{id}/join}, {@code GET /api/rooms/{id}/events}) answered with nothing checked, and
 * each room event framed once as the bridge frames it ({@link #frame}) and handed to every open tab
 * of the room. A tab is served as the bridge serves one: the request's own virtual thread drains a
 * bounded queue of frames into the response's output stream, one write and one flush per frame (a
 * full queue is replaced by a snapshot). No authentication, no upstream, no keep-alives (a run is
 * short), no per-tab state besides the queue.
 */
final class BareSse implements AutoCloseable {
  private static final JsonFormat.Printer JSON =
      JsonFormat.printer().omittingInsignificantWhitespace().alwaysPrintFieldsWithNoPresence();
  private static final HeaderName ACCEL_BUFFERING = HeaderNames.create("X-Accel-Buffering");

  /** What the bridge sends first on every stream (its {@code EventStreams.HELLO}). */
  static final byte[] HELLO =
      "retry: 2000\n: WatchParty room events\n\n".getBytes(StandardCharsets.US_ASCII);

  // Helidon logs its start and stop through java.util.logging; the generator's output is the
  // report. Held here, as JUL keeps loggers only weakly.
  private static final Logger HELIDON_LOG = Logger.getLogger("io.helidon");

  private final WebServer server;

  private BareSse(WebServer server) {
    this.server = server;
  }

  /**
   * Serves the tabs of {@code rooms} (room id to room, empty for an unknown room) on a free
   * loopback port.
   */
  static BareSse start(Function<String, Optional<BaselineServer.SseRoom>> rooms) {
    HELIDON_LOG.setLevel(Level.WARNING);
    WebServer server =
        WebServer.builder()
            .host(InetAddress.getLoopbackAddress().getHostAddress())
            .port(0)
            .shutdownHook(false)
            .featuresDiscoverServices(false)
            .routing(routing -> routing(routing, rooms))
            .build()
            .start();
    if (!server.isRunning()) {
      throw new IllegalStateException("the bare SSE server could not listen");
    }
    return new BareSse(server);
  }

  int port() {
    return server.port();
  }

  @Override
  public void close() {
    server.stop();
  }

  private static void routing(
      HttpRouting.Builder routing, Function<String, Optional<BaselineServer.SseRoom>> rooms) {
    routing
        .post(
            "/api/session",
            (req, res) -> {
              req.content().consume();
              res.header(HeaderNames.SET_COOKIE, "wp_session=bare; Path=/; HttpOnly");
              res.send("{}");
            })
        .post(
            "/api/rooms/{id}/join",
            (req, res) -> {
              req.content().consume();
              if (room(req, rooms).isEmpty()) {
                res.status(Status.NOT_FOUND_404).send("{\"error\":\"ROOM_NOT_FOUND\"}");
                return;
              }
              res.send("{}");
            })
        .get(
            "/api/rooms/{id}/events",
            (req, res) -> {
              Optional<BaselineServer.SseRoom> room = room(req, rooms);
              if (room.isEmpty()) {
                res.status(Status.NOT_FOUND_404).send("{\"error\":\"ROOM_NOT_FOUND\"}");
                return;
              }
              events(room.get(), res);
            });
  }

  private static Optional<BaselineServer.SseRoom> room(
      ServerRequest req, Function<String, Optional<BaselineServer.SseRoom>> rooms) {
    return rooms.apply(req.path().pathParameters().get("id"));
  }

  private static void events(BaselineServer.SseRoom room, ServerResponse res) {
    res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
    res.header(HeaderNames.CACHE_CONTROL, "no-store");
    res.header(ACCEL_BUFFERING, "no");
    var tab = new Tab();
    OutputStream out = res.outputStream();
    try {
      write(out, HELLO);
      room.attach(tab);
      while (true) {
        write(out, tab.next());
      }
    } catch (InterruptedException | IOException | UncheckedIOException gone) {
      // The tab went away, or the server stops: this stream is done.
    } finally {
      room.detach(tab);
      try {
        out.close();
      } catch (IOException | UncheckedIOException gone) {
        // Already closed by the peer.
      }
    }
  }

  private static void write(OutputStream out, byte[] frame) throws IOException {
    out.write(frame);
    out.flush();
  }

  /**
   * One SSE event as the bridge frames a room event (its {@code Outgoing.Event.of} of the message's
   * compact proto JSON): {@code id}, {@code event} named after the message's kind, one {@code data}
   * line.
   */
  static byte[] frame(ServerMessage message) {
    String json;
    try {
      json = JSON.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a ServerMessage that cannot be printed as JSON", e);
    }
    String name = message.getKindCase().name().toLowerCase(Locale.ROOT);
    return ("id: " + message.getSequence() + "\nevent: " + name + "\ndata: " + json + "\n\n")
        .getBytes(StandardCharsets.UTF_8);
  }

  /**
   * One tab's bounded queue: the publishing thread offers frames and never waits, the tab's own
   * virtual thread takes them. A full queue is dropped for the room's current snapshot.
   */
  static final class Tab {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();

    @GuardedBy("lock")
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();

    /** False when the queue is full: the caller then {@link #resetTo}s it. */
    boolean offer(byte[] frame) {
      lock.lock();
      try {
        if (queue.size() >= BaselineServer.QUEUE_CAPACITY) {
          return false;
        }
        queue.addLast(frame);
        ready.signal();
        return true;
      } finally {
        lock.unlock();
      }
    }

    void resetTo(byte[] snapshot) {
      lock.lock();
      try {
        queue.clear();
        queue.addLast(snapshot);
        ready.signal();
      } finally {
        lock.unlock();
      }
    }

    /** The next frame, waiting (without a timeout) until there is one. */
    byte[] next() throws InterruptedException {
      lock.lock();
      try {
        while (queue.isEmpty()) {
          ready.await();
        }
        return queue.pollFirst();
      } finally {
        lock.unlock();
      }
    }
  }
}
