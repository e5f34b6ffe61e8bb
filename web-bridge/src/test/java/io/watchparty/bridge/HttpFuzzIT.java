package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.helidon.json.JsonObject;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Tuple;
import net.jqwik.api.sessions.JqwikSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every route of the browser API, sent what jqwik's generators make: JSON objects with the API's
 * field names and random values of every JSON kind (long strings, lone surrogate escapes, numbers
 * past every range, nesting), text that is almost JSON, and random bytes; path ids and query
 * parameters random too. Seeded and bounded, in the normal test run. Whatever arrives, the bridge
 * answers no 5xx, a refusal is JSON with an {@code error} reason, nothing is logged at ERROR, and
 * the bridge and its upstream keep serving.
 */
class HttpFuzzIT {
  /** Change it to explore further; a failure names the seed it ran with. */
  private static final String SEED = "20261207";

  private static final int REQUESTS_PER_ROUTE = 40;

  /** The routes of {@code BrowserApi} and {@code EventStreams}; {id} is filled in per request. */
  private static final List<String> ROUTES =
      List.of(
          "GET /api/",
          "GET /api/time",
          "GET /api/demo-users",
          "POST /api/session",
          "GET /api/session",
          "GET /api/titles",
          "GET /api/rooms",
          "GET /api/my-rooms",
          "POST /api/rooms",
          "GET /api/rooms/{id}",
          "POST /api/rooms/{id}/join",
          "POST /api/rooms/{id}/commands",
          "GET /api/rooms/{id}/unable-to-watch",
          "POST /api/rooms/{id}/chat",
          "GET /api/rooms/{id}/chat",
          "POST /api/rooms/{id}/reactions",
          "POST /api/rooms/{id}/buffering",
          "POST /api/rooms/{id}/invite",
          "POST /api/rooms/{id}/leave");

  /** Field names the API reads, so that random objects get past "unknown shape" now and then. */
  private static final List<String> KEYS =
      List.of(
          "demoUser",
          "token",
          "titleId",
          "name",
          "settings",
          "visibility",
          "hostLeavePolicy",
          "slowModeMs",
          "playback",
          "play",
          "pause",
          "seek",
          "positionMs",
          "setRate",
          "rate",
          "changeTitle",
          "role",
          "kick",
          "ban",
          "grantCohost",
          "text",
          "clientMessageId",
          "emoji",
          "buffering",
          "inviteToken",
          "pageSize",
          "pageToken",
          "chat",
          "muteUserId",
          "durationMs");

  @RegisterExtension static final Platform platform = Platform.builder().build();

  @Test
  void everyRouteAnswersFuzzedRequestsWithoutAServerErrorAndWithAReason() {
    List<String> wrong = new ArrayList<>();
    Map<String, Integer> answers = new TreeMap<>();
    try (ErrorLog log = ErrorLog.open();
        Browser alice = platform.browser("alice")) {
      String roomId = publicRoom(alice, "Fuzzed");
      List<Request> requests = new ArrayList<>();
      JqwikSession.run(
          SEED,
          () -> {
            for (String route : ROUTES) {
              requests(route, roomId)
                  .sampleStream()
                  .limit(REQUESTS_PER_ROUTE)
                  .forEach(requests::add);
            }
          });
      String previous = "nothing";
      for (Request request : requests) {
        HttpResponse<String> response;
        try {
          response = sendAsABrowserDoes(alice, request, previous, answers);
        } catch (UncheckedIOException noAnswer) {
          wrong.add(request + " after " + previous + ": no answer (" + noAnswer.getMessage() + ")");
          answers.merge("no answer", 1, Integer::sum);
          previous = request + " (no answer)";
          continue;
        }
        previous =
            request
                + " (answered "
                + response.statusCode()
                + response
                    .headers()
                    .firstValue("Connection")
                    .map(c -> ", Connection: " + c)
                    .orElse("")
                + ")";
        String outcome = unusable(response);
        answers.merge(
            response.statusCode()
                + response.headers().firstValue("Connection").map(c -> " " + c).orElse("")
                + (outcome == null ? "" : " (wrong)"),
            1,
            Integer::sum);
        if (outcome != null) {
          wrong.add(request + ": " + outcome);
        }
      }
      System.out.printf(
          "HttpFuzzIT: %d fuzzed requests to %d routes (seed %s), answered %s%n",
          requests.size(), ROUTES.size(), SEED, answers);

      assertThat(wrong).as("answers no browser can act on (seed %s)", SEED).isEmpty();
      assertThat(log.errors()).as("errors logged while fuzzing (seed %s)", SEED).isEmpty();
      // The bridge and its upstream still serve, and the room still works.
      assertThat(alice.get("/api/session").statusCode()).isEqualTo(200);
      SseProbe events = alice.events(roomId);
      assertThat(events.next().name()).isEqualTo("snapshot");
    }
  }

  /**
   * The event stream's resume header, fuzzed: a browser sends back whatever id it last saw, and an
   * extension or a proxy may send anything. Any {@code Last-Event-ID} that names no event the
   * bridge still holds (numbers of every size and sign, text, numbers too long for a long, blanks)
   * opens the stream with a fresh snapshot; none fails the stream or logs an ERROR.
   */
  @Test
  void anyLastEventIdOpensTheStreamWithASnapshotOrTheMissedEvents() {
    Map<String, Integer> answers = new TreeMap<>();
    try (ErrorLog log = ErrorLog.open();
        Browser alice = platform.browser("alice")) {
      String roomId = publicRoom(alice, "Resumed");
      long current;
      try (SseProbe first = alice.events(roomId)) {
        current = Long.parseLong(first.next("snapshot").id());
      }
      List<String> ids = new ArrayList<>();
      JqwikSession.run(
          SEED, () -> lastEventIds().sampleStream().limit(LAST_EVENT_IDS).forEach(ids::add));
      for (String id : ids) {
        if (heldByTheBridge(id, current)) {
          continue; // an exact resume: EventStreamsIT covers it
        }
        try (SseProbe stream = openAsABrowserDoes(alice, roomId, id, answers)) {
          assertThat(stream.status()).as("Last-Event-ID %s", shown(id)).isEqualTo(200);
          assertThat(stream.next().name()).as("Last-Event-ID %s", shown(id)).isEqualTo("snapshot");
          answers.merge("snapshot", 1, Integer::sum);
        }
      }
      System.out.printf(
          "HttpFuzzIT: %d fuzzed Last-Event-IDs (seed %s): %s%n", ids.size(), SEED, answers);
      assertThat(log.errors())
          .as("errors logged while fuzzing Last-Event-ID (seed %s)", SEED)
          .isEmpty();
    }
  }

  /** A public room {@code browser}'s user hosts, made through the API: its id. */
  private static String publicRoom(Browser browser, String name) {
    return browser
        .ok(
            "/api/rooms",
            "{\"titleId\":\"sintel\",\"name\":\""
                + name
                + "\",\"settings\":{\"visibility\":\"PUBLIC\"}}")
        .objectValue("room")
        .orElseThrow()
        .stringValue("roomId")
        .orElseThrow();
  }

  private static final int LAST_EVENT_IDS = 60;

  /** Values a Last-Event-ID header may carry (an HTTP header value: no line breaks). */
  private static Arbitrary<String> lastEventIds() {
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.longs().map(Object::toString)),
        Tuple.of(1, Arbitraries.strings().numeric().ofMinLength(19).ofMaxLength(60)),
        Tuple.of(
            2,
            Arbitraries.strings()
                .withCharRange(' ', '~')
                .ofMaxLength(80)
                .map(String::strip)
                .filter(v -> !v.isEmpty())),
        Tuple.of(
            1,
            Arbitraries.of(
                "0",
                "-1",
                "-0",
                "+5",
                "1e3",
                "0x10",
                " 42 ",
                "9223372036854775807",
                "-9223372036854775808",
                "9223372036854775808",
                "4294967296.0")));
  }

  /**
   * Whether {@code id} may name an event the bridge still holds for a room now at {@code current}.
   */
  private static boolean heldByTheBridge(String id, long current) {
    try {
      long sequence = Long.parseLong(id.strip());
      return Math.abs(sequence - current) < 1_000;
    } catch (NumberFormatException notOurs) {
      return false;
    }
  }

  /**
   * Opens the room's stream as a browser's EventSource does: refused for a moment because the
   * previous stream's slot is not free yet (TOO_MANY_STREAMS, with Retry-After), it tries again.
   */
  private static SseProbe openAsABrowserDoes(
      Browser browser, String roomId, String lastEventId, Map<String, Integer> answers) {
    for (int attempt = 0; ; attempt++) {
      SseProbe stream = browser.events(roomId, lastEventId);
      if (stream.status() != 503 || attempt == 5) {
        return stream;
      }
      stream.close();
      answers.merge("503, opened again", 1, Integer::sum);
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  private static String shown(String id) {
    return "'" + (id.length() > 40 ? id.substring(0, 40) + "..." : id) + "'";
  }

  /**
   * Sends as a browser does: a request that got no byte of an answer on a connection kept from an
   * earlier one is sent once more (a server may close an idle connection just as a request goes out
   * on it; Chromium retries then, the JDK's client only for idempotent methods). A request the
   * bridge really leaves unanswered fails twice.
   */
  private static HttpResponse<String> sendAsABrowserDoes(
      Browser browser, Request request, String previous, Map<String, Integer> answers) {
    try {
      return browser.send(request.toHttp(platform));
    } catch (UncheckedIOException closedBeforeAnswering) {
      answers.merge("sent again", 1, Integer::sum);
      System.out.printf(
          "HttpFuzzIT: no answer to %s (%s) after %s; sent again%n",
          request, closedBeforeAnswering.getMessage(), previous);
      return browser.send(request.toHttp(platform));
    }
  }

  /** One request: a route, a path id, a query, and a body (text or bytes). */
  private record Request(String method, String path, String query, Object body) {
    HttpRequest.Builder toHttp(Platform platform) {
      HttpRequest.Builder http =
          HttpRequest.newBuilder(platform.uri(path + (query.isEmpty() ? "" : "?" + query)))
              .header(CrossSiteGuard.HEADER, "1");
      return switch (method) {
        case "POST" ->
            http.header("Content-Type", "application/json")
                .POST(
                    body instanceof byte[] bytes
                        ? HttpRequest.BodyPublishers.ofByteArray(bytes)
                        : HttpRequest.BodyPublishers.ofString((String) body));
        case "DELETE" -> http.DELETE();
        default -> http.GET();
      };
    }

    @Override
    public String toString() {
      String shown =
          body instanceof byte[] bytes
              ? bytes.length + " random bytes"
              : ((String) body).length() > 200
                  ? ((String) body).substring(0, 200) + "... (" + ((String) body).length() + ")"
                  : (String) body;
      return method + " " + path + (query.isEmpty() ? "" : "?" + query) + " " + shown;
    }
  }

  private static Arbitrary<Request> requests(String route, String roomId) {
    String method = route.substring(0, route.indexOf(' '));
    String template = route.substring(route.indexOf(' ') + 1);
    Arbitrary<String> ids =
        Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.just(roomId)),
            Tuple.of(1, Arbitraries.strings().all().ofMaxLength(80).map(HttpFuzzIT::encoded)),
            Tuple.of(1, Arbitraries.strings().numeric().ofMinLength(1_000).ofMaxLength(9_000)));
    Arbitrary<String> queries =
        Arbitraries.frequencyOf(
            Tuple.of(2, Arbitraries.just("")),
            Tuple.of(
                1,
                Arbitraries.of("pageSize", "pageToken", "titleId", "x")
                    .flatMap(
                        key ->
                            Arbitraries.strings()
                                .all()
                                .ofMaxLength(40)
                                .map(value -> key + "=" + encoded(value)))));
    Arbitrary<Object> bodies =
        Arbitraries.frequencyOf(
            Tuple.of(5, jsonObjects(3).map(Object.class::cast)),
            Tuple.of(1, Arbitraries.strings().all().ofMaxLength(200).map(Object.class::cast)),
            Tuple.of(
                1,
                jsonObjects(1)
                    .map(json -> json.substring(0, json.length() / 2))
                    .map(Object.class::cast)),
            Tuple.of(
                1, Arbitraries.bytes().array(byte[].class).ofMaxSize(300).map(Object.class::cast)),
            Tuple.of(
                1,
                Arbitraries.strings()
                    .all()
                    .ofMinLength(16_000)
                    .ofMaxLength(17_000)
                    .map(text -> "{\"text\":\"" + escaped(text) + "\"}")
                    .map(Object.class::cast)));
    return ids.flatMap(
        id ->
            queries.flatMap(
                query ->
                    bodies.map(
                        body -> new Request(method, template.replace("{id}", id), query, body))));
  }

  /** JSON objects with the API's keys and values of every JSON kind, nested to {@code depth}. */
  private static Arbitrary<String> jsonObjects(int depth) {
    Arbitrary<String> value = jsonValues(depth);
    return Arbitraries.of(KEYS)
        .flatMap(key -> value.map(v -> "\"" + key + "\":" + v))
        .list()
        .ofMaxSize(4)
        .map(fields -> "{" + String.join(",", fields) + "}");
  }

  private static Arbitrary<String> jsonValues(int depth) {
    List<Tuple.Tuple2<Integer, Arbitrary<String>>> kinds = new ArrayList<>();
    kinds.add(
        Tuple.of(
            3, Arbitraries.strings().all().ofMaxLength(60).map(s -> "\"" + escaped(s) + "\"")));
    kinds.add(Tuple.of(2, Arbitraries.longs().map(Object::toString)));
    kinds.add(Tuple.of(1, Arbitraries.longs().map(n -> "\"" + n + "\"")));
    kinds.add(Tuple.of(1, Arbitraries.doubles().map(Object::toString)));
    kinds.add(
        Tuple.of(
            1,
            Arbitraries.of(
                "true",
                "false",
                "null",
                "1e999",
                "-1e999",
                "99999999999999999999999",
                "\"\\ud800\"",
                "\"\\udfff\\ud800\"",
                "[]",
                "{}",
                "-0",
                "0.0000000001")));
    if (depth > 0) {
      kinds.add(Tuple.of(2, jsonObjects(depth - 1)));
      kinds.add(
          Tuple.of(
              1,
              jsonValues(depth - 1).list().ofMaxSize(3).map(l -> "[" + String.join(",", l) + "]")));
    }
    return Arbitraries.frequencyOf(kinds);
  }

  /** A string as a JSON string literal's content: quotes, backslashes and controls escaped. */
  private static String escaped(String text) {
    StringBuilder out = new StringBuilder(text.length() + 8);
    text.chars()
        .forEach(
            c -> {
              if (c == '"' || c == '\\') {
                out.append('\\').append((char) c);
              } else if (c < 0x20 || Character.isSurrogate((char) c)) {
                out.append(String.format("\\u%04x", c)); // lone surrogates stay lone, escaped
              } else {
                out.append((char) c);
              }
            });
    return out.toString();
  }

  private static String encoded(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }

  /** Null when a browser can act on the answer; otherwise what is wrong with it. */
  private static String unusable(HttpResponse<String> response) {
    int status = response.statusCode();
    if (status >= 500) {
      return "status " + status + ": " + response.body();
    }
    if (status < 400) {
      return null;
    }
    try {
      JsonObject error = Browser.parse(response.body());
      return error.stringValue("error").filter(e -> !e.isEmpty()).isPresent()
          ? null
          : "status " + status + " without an error reason: " + response.body();
    } catch (RuntimeException notJson) {
      return "status " + status + " with a body that is not JSON: " + response.body();
    }
  }
}
