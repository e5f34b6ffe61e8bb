package io.watchparty.bridge;

import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.json.JsonObject;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ServerConnectionException;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.watchparty.bridge.Sessions.Session;
import io.watchparty.bridge.relay.Outgoing;
import io.watchparty.bridge.relay.RelayHub;
import io.watchparty.bridge.relay.Viewer;
import io.watchparty.bridge.relay.ViewerStream;
import io.watchparty.proto.v1.AuthorizeViewerRequest;
import io.watchparty.proto.v1.ViewerGrant;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/rooms/{id}/events}: one browser's Server-Sent Events for one room.
 *
 * <p>Before a single event is sent, the server authorizes the user under their own token ({@code
 * AuthorizeViewer}); a refusal is an HTTP error, never an open stream. The handler's own virtual
 * thread is the browser's one writer: it drains the browser's {@link ViewerStream} into the {@link
 * SseSink} and writes a keep-alive comment when the room is quiet. A write that does not finish
 * within the stall timeout (the browser accepts nothing) is interrupted, which closes the
 * connection; no other browser waits for it meanwhile.
 */
final class EventStreams implements HttpService {
  private static final Logger log = LoggerFactory.getLogger(EventStreams.class);
  private static final HeaderName LAST_EVENT_ID = HeaderNames.create("Last-Event-ID");
  private static final HeaderName ACCEL_BUFFERING = HeaderNames.create("X-Accel-Buffering");

  /** How long EventSource waits before it reconnects after a dropped connection. */
  static final Duration RETRY = Duration.ofSeconds(2);

  /** How long an ended stream waits for the browser to close the connection first. */
  static final Duration LINGER = Duration.ofSeconds(2);

  /** Retry-After at the user's own limit: by then a stream the user closed has freed its slot. */
  static final Duration USER_RETRY = RETRY;

  /** Retry-After when the bridge holds its maximum of streams. */
  static final Duration BRIDGE_RETRY = Duration.ofSeconds(5);

  private static final HttpMediaType EVENT_STREAM =
      HttpMediaType.create(MediaTypes.TEXT_EVENT_STREAM);
  private static final byte[] HELLO =
      ("retry: " + RETRY.toMillis() + "\n: WatchParty room events\n\n")
          .getBytes(StandardCharsets.US_ASCII);
  private static final byte[] KEEP_ALIVE = ": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII);

  private final RoomCalls rooms;
  private final Sessions sessions;
  private final Invites invites;
  private final EndedStreams ended;
  private final RelayHub hub;
  private final BridgeSettings settings;
  private final BridgeMetrics metrics;
  private final ClosedConnections connections;
  private final StreamSlots slots;
  private final StallWatch stalls;
  private final ScheduledFuture<?> stallWatch;
  private final ScheduledFuture<?> heartbeat;

  EventStreams(
      RoomCalls rooms,
      Sessions sessions,
      Invites invites,
      EndedStreams ended,
      RelayHub hub,
      BridgeSettings settings,
      BridgeMetrics metrics,
      ClosedConnections connections,
      ScheduledExecutorService timers) {
    this.connections = connections;
    this.metrics = metrics;
    this.rooms = rooms;
    this.sessions = sessions;
    this.invites = invites;
    this.ended = ended;
    this.hub = hub;
    this.settings = settings;
    this.slots = new StreamSlots(settings.maxStreams(), settings.userStreams());
    this.stalls = new StallWatch(settings.stallTimeout(), System::nanoTime);
    long period = Math.max(50, settings.stallTimeout().toMillis() / 4);
    this.stallWatch =
        timers.scheduleAtFixedRate(
            this::interruptStalledWriters, period, period, TimeUnit.MILLISECONDS);
    // The writers wait without a timeout (see ViewerStream); this clock says when to keep alive.
    long beat = Math.max(1, settings.heartbeat().toMillis() / 2);
    this.heartbeat = timers.scheduleAtFixedRate(hub::heartbeat, beat, beat, TimeUnit.MILLISECONDS);
  }

  @Override
  public void routing(HttpRules rules) {
    rules.get("/rooms/{id}/events", this::events);
  }

  /** Open SSE streams. */
  int open() {
    return slots.open();
  }

  void close() {
    stallWatch.cancel(false);
    heartbeat.cancel(false);
  }

  private void events(ServerRequest req, ServerResponse res) {
    String roomId = RoomIds.of(req);
    Session session = sessions.require(req);
    OptionalLong lastEventId = lastEventId(req);
    if (lastEventId.isPresent() && ended.of(session.userId(), roomId).isPresent()) {
      // EventSource reconnecting after its stream ended for good: 204 makes it stop.
      res.status(Status.NO_CONTENT_204).send();
      return;
    }
    if (!slots.reserve(session.userId())) {
      throw tooManyStreams(slots.openOf(session.userId()) >= settings.userStreams());
    }
    Optional<ClosedConnections.Watch> watch = Optional.empty();
    try {
      ViewerGrant grant = authorize(session, roomId);
      Viewer viewer =
          new Viewer(
              grant.getUserId(), grant.getDisplayName(), grant.getRegion(), session.credentials());
      try (ViewerStream stream =
          hub.attach(roomId, viewer, grant.getRole(), grant.getRoom().getTitleId(), lastEventId)) {
        res.headers().contentType(EVENT_STREAM);
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.header(ACCEL_BUFFERING, "no"); // proxies must pass events on as they come
        // The connection watch reads the connection (see ClosedConnections), which therefore ends
        // with the stream; EventSource opens a new one to reconnect anyway.
        res.header(HeaderValues.CONNECTION_CLOSE);
        watch = connections.watch(stream::disconnected);
        OutputStream out = res.outputStream();
        try {
          serve(stream, out);
        } finally {
          watch.ifPresent(ClosedConnections.Watch::close);
          closeWatched(out);
        }
      }
    } finally {
      slots.release(session.userId());
    }
    watch.ifPresent(EventStreams::linger);
    // The watch read from the connection, so it serves no further request; Helidon would go on
    // reading it despite the response's Connection: close, so the stream closes it.
    throw new CloseConnectionException("the event stream ended");
  }

  /**
   * The second stage of a staged close (RFC 9112, section 9.6): the response is complete, and the
   * browser closes its side once it has read to the end. Closing the connection first can reset it,
   * and a reset destroys what the browser had received and not yet read: the last events, those
   * that say why the stream ended (a kicked or departing user's tabs missed theirs now and then, on
   * a loaded machine). So the bridge waits for that close, at most {@link #LINGER}.
   */
  private static void linger(ClosedConnections.Watch watch) {
    try {
      watch.awaitPeerClose(LINGER);
    } catch (InterruptedException stopping) {
      Thread.currentThread().interrupt(); // the bridge stops: close now
    }
  }

  /**
   * The refusal at a limit. A stream whose browser closed its connection gives its slot back as
   * soon as the bridge sees the close ({@link ClosedConnections}), so a user at their own limit who
   * closed a tab is served again within the reconnect delay, which is what Retry-After says. A full
   * bridge frees slots only as others leave: its Retry-After only spreads the retries.
   */
  private static ApiException tooManyStreams(boolean userLimit) {
    return new ApiException(
        new ApiError(
            Status.SERVICE_UNAVAILABLE_503,
            "TOO_MANY_STREAMS",
            userLimit
                ? "You hold as many open event streams as one user may; close a tab or window."
                : "This bridge holds as many open event streams as it may; try again shortly.",
            Map.of(
                ApiError.RETRY_AFTER_MS,
                Long.toString(userLimit ? USER_RETRY.toMillis() : BRIDGE_RETRY.toMillis()))));
  }

  private ViewerGrant authorize(Session session, String roomId) {
    AuthorizeViewerRequest request =
        AuthorizeViewerRequest.newBuilder()
            .setRoomId(roomId)
            .setInviteToken(invites.of(session.userId(), roomId))
            .build();
    return rooms.rooms(roomId, session.credentials(), s -> s.authorizeViewer(request));
  }

  /**
   * Writes until the stream ends or the browser goes away. Frames are written as the relay framed
   * them, once for all browsers ({@link Outgoing.Event#wire()}); Helidon's {@code SseSink} would
   * serialize each event again per browser and cannot send the {@code retry:} field.
   */
  private void serve(ViewerStream stream, OutputStream out) {
    try {
      write(out, HELLO);
      while (true) {
        Optional<Outgoing> next = stream.next();
        if (next.isEmpty()) {
          write(out, KEEP_ALIVE);
          continue;
        }
        switch (next.get()) {
          case Outgoing.Event event -> write(out, event.wire());
          case Outgoing.End end -> {
            if (!end.reason().stopsReconnects()) {
              return; // closed without a word: EventSource reconnects and resumes by itself
            }
            ended.remember(stream.viewer().userId(), stream.roomId(), end.reason());
            String json =
                JsonObject.builder()
                    .set("reason", end.reason().name())
                    .set("message", end.reason().message())
                    .build()
                    .toString();
            write(out, Outgoing.Event.of(Outgoing.Event.NO_ID, "ended", json).wire());
            return;
          }
        }
      }
    } catch (InterruptedException
        | IOException
        | UncheckedIOException
        | ServerConnectionException gone) {
      // The browser went away, or read nothing for the stall timeout: the connection is done.
      // (Helidon says a write to a connection the peer closed with ServerConnectionException.)
      log.debug(
          "Event stream of {} in room {} ended: {}",
          stream.viewer(),
          stream.roomId(),
          gone.toString());
    } catch (RuntimeException unexpected) {
      // Helidon would close the connection without a word: say why this stream ended.
      log.warn(
          "Event stream of {} in room {} failed", stream.viewer(), stream.roomId(), unexpected);
    }
  }

  /**
   * Ends the response. Its last chunk can block on a browser that reads nothing, like any write, so
   * the stall watch covers it too: an interrupted write closes the connection.
   */
  private void closeWatched(OutputStream out) {
    StallWatch.Write closing = stalls.begin();
    try {
      out.close();
    } catch (IOException | UncheckedIOException gone) {
      // The connection is gone already; there is nothing left to end.
    } finally {
      stalls.end(closing); // this virtual thread goes back to Helidon without a pending interrupt
    }
  }

  private void write(OutputStream out, byte[] frame) throws IOException, InterruptedException {
    StallWatch.Write write = stalls.begin();
    boolean stalled;
    try {
      out.write(frame);
      out.flush();
    } finally {
      stalled = stalls.end(write); // consumes the watch's interrupt, if it came
    }
    if (stalled) {
      throw new InterruptedException("stalled write");
    }
  }

  private void interruptStalledWriters() {
    int stalled = stalls.interruptStalled();
    for (int i = 0; i < stalled; i++) {
      log.info("A browser accepted nothing for {}; closing its stream", settings.stallTimeout());
      metrics.closedStalled();
    }
  }

  /** The browser's Last-Event-ID; one that is not a sequence of ours resumes by snapshot (-1). */
  private static OptionalLong lastEventId(ServerRequest req) {
    Optional<String> header = req.headers().first(LAST_EVENT_ID);
    if (header.isEmpty() || header.get().isBlank()) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(header.get().strip()));
    } catch (NumberFormatException e) {
      return OptionalLong.of(-1);
    }
  }
}
