package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.helidon.json.JsonObject;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * One event stream read as {@code EventSource} reads it (the SSE wire format: {@code id}, {@code
 * event}, {@code data}, comments, blank line ends an event), collected for assertions.
 */
final class SseProbe implements AutoCloseable {
  private static final Duration WAIT = Duration.ofSeconds(20);

  /** One event as received; {@code id} is null when the event had none. */
  record Event(String id, String name, String data) {
    JsonObject json() {
      return Browser.parse(data);
    }

    /** The room sequence in the data (proto JSON prints int64 as a string). */
    long sequence() {
      return Long.parseLong(json().stringValue("sequence", "0"));
    }

    /** The position a {@code playback_changed} event moves to. */
    long positionMs() {
      return Long.parseLong(
          json()
              .objectValue("playbackChanged")
              .orElseThrow()
              .objectValue("state")
              .orElseThrow()
              .stringValue("positionMs")
              .orElseThrow());
    }
  }

  private final CompletableFuture<HttpResponse<Stream<String>>> response;
  private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final List<Event> seen = new ArrayList<>();
  private final List<String> comments = new ArrayList<>();
  private volatile String retry;
  private volatile boolean ended;

  /** What ended the stream, if it did not end cleanly: for the message of a failed wait. */
  private volatile String endedBy = "";

  private volatile Stream<String> lines;
  private volatile boolean closing;

  private SseProbe(CompletableFuture<HttpResponse<Stream<String>>> response) {
    this.response = response;
  }

  static SseProbe open(HttpClient http, HttpRequest request) {
    SseProbe probe = new SseProbe(http.sendAsync(request, HttpResponse.BodyHandlers.ofLines()));
    Thread.ofVirtual().name("sse-probe").start(probe::read);
    return probe;
  }

  /** The HTTP status of the stream's response. */
  int status() {
    return response().statusCode();
  }

  HttpResponse<Stream<String>> response() {
    try {
      return response.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException | ExecutionException | TimeoutException e) {
      throw new AssertionError("no response to the event stream request", e);
    }
  }

  private void read() {
    HttpResponse<Stream<String>> answer;
    try {
      answer = response.get();
    } catch (InterruptedException | ExecutionException | CancellationException e) {
      ended = true;
      return;
    }
    lines = answer.body();
    if (closing) {
      // close() ran between the response and the line above and could not reach the body
      lines.close();
    }
    String id = null;
    String name = "message";
    StringBuilder data = null;
    try {
      for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
        String line = it.next();
        if (line.isEmpty()) {
          if (data != null) {
            events.add(new Event(id, name, data.toString()));
          }
          id = null;
          name = "message";
          data = null;
        } else if (line.startsWith(":")) {
          synchronized (comments) {
            comments.add(line.substring(1).strip());
          }
        } else {
          int colon = line.indexOf(':');
          String field = colon < 0 ? line : line.substring(0, colon);
          String value = colon < 0 ? "" : line.substring(colon + 1);
          if (value.startsWith(" ")) {
            value = value.substring(1);
          }
          switch (field) {
            case "id" -> id = value;
            case "event" -> name = value;
            case "retry" -> retry = value;
            case "data" ->
                data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
            default -> {}
          }
        }
      }
    } catch (RuntimeException closed) {
      // the stream was closed (by us or by the bridge)
      StringBuilder causes = new StringBuilder(closed.toString());
      for (Throwable cause = closed.getCause(); cause != null; cause = cause.getCause()) {
        causes.append(", caused by ").append(cause);
      }
      endedBy = causes.toString();
    } finally {
      ended = true;
    }
  }

  /** The next event, whatever it is. */
  Event next() {
    try {
      Event event = events.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
      if (event == null) {
        throw new AssertionError(
            "no event within "
                + WAIT
                + (ended
                    ? " (the stream ended" + (endedBy.isEmpty() ? "" : ": " + endedBy) + ")"
                    : " (the stream is open)")
                + "; seen "
                + seen);
      }
      seen.add(event);
      return event;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The next event named {@code name}, skipping others. */
  Event next(String name) {
    return next(e -> e.name().equals(name));
  }

  Event next(Predicate<Event> wanted) {
    while (true) {
      Event event = next();
      if (wanted.test(event)) {
        return event;
      }
    }
  }

  /** Whether the bridge has closed the stream (after reading all that came before). */
  boolean closed() {
    return ended && events.isEmpty();
  }

  /** Events already received and not yet taken, without waiting. */
  List<Event> pending() {
    List<Event> out = new ArrayList<>();
    events.drainTo(out);
    seen.addAll(out);
    return out;
  }

  String retry() {
    return retry;
  }

  List<String> comments() {
    synchronized (comments) {
      return List.copyOf(comments);
    }
  }

  void assertStatus(int expected) {
    assertThat(status()).isEqualTo(expected);
  }

  /**
   * Ends the stream as a closed tab does. The body is closed here whether or not the reader has
   * taken it yet: a stream left open would keep its exchange alive, and the browser's {@code
   * HttpClient.close()} waits for every exchange (a CI run hung there once).
   */
  @Override
  public void close() {
    closing = true;
    response.cancel(true);
    if (response.isDone() && !response.isCancelled() && !response.isCompletedExceptionally()) {
      response.join().body().close();
    }
    Stream<String> open = lines;
    if (open != null) {
      open.close();
    }
  }
}
