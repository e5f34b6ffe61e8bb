package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.grpc.Status.Code;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.helidon.http.BadRequestException;
import io.helidon.json.JsonObject;
import io.helidon.json.JsonParser;
import io.helidon.webserver.WebServer;
import io.watchparty.server.testing.CapturedLog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Failures thrown by handlers reach the browser through {@link HttpErrors}: the bridge's routing
 * plus test routes that fail the way later handlers will.
 */
class HttpErrorsRoutingTest {
  private static final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static Upstream upstream;
  private static WebServer server;

  @BeforeAll
  static void start() {
    // The routes under test never call upstream; an unconnected in-process channel stands in.
    upstream =
        Upstream.over(
            InProcessChannelBuilder.forName("unused-" + HttpErrorsRoutingTest.class.getName())
                .directExecutor()
                .build(),
            "in-process");
    server =
        WebServer.builder()
            .host("127.0.0.1")
            .port(0)
            .shutdownHook(false)
            .maxPayloadSize(JsonBodies.MAX_PAYLOAD) // as the bridge's own listener
            .directHandlers(HttpErrors.directHandlers())
            .routing(
                routing -> {
                  HttpErrors.register(routing);
                  routing
                      .get(
                          "/refused",
                          (req, res) -> {
                            throw HttpErrorsTest.refusal(
                                Code.RESOURCE_EXHAUSTED,
                                "RATE_LIMITED",
                                "Slow down.",
                                Map.of("retry_after_ms", "1200"));
                          })
                      .get(
                          "/bad",
                          (req, res) -> {
                            throw new BadRequestException("roomId must be 1 to 64 characters.");
                          })
                      .post(
                          "/refused-early",
                          (req, res) -> {
                            // As a handler that refuses before it reads the body (no session).
                            throw new ApiException(
                                io.helidon.http.Status.UNAUTHORIZED_401,
                                "NOT_SIGNED_IN",
                                "Sign in first.");
                          })
                      .post(
                          "/read",
                          // As a handler that reads its body, as every POST of the API does.
                          (req, res) ->
                              res.send(JsonBodies.readFields(req, Set.of("text")).toString()))
                      .get("/smuggled", (req, res) -> res.send("smuggled"))
                      .get("/probe", (req, res) -> res.send("probe"))
                      .get(
                          "/bug",
                          (req, res) -> {
                            throw new IllegalStateException("secret internal state");
                          });
                })
            .build()
            .start();
  }

  @AfterAll
  static void stop() {
    server.stop();
    upstream.close();
    http.close();
  }

  @Test
  void upstreamRefusalBecomesItsHttpStatusWithReasonAndRetryAfter() throws Exception {
    HttpResponse<String> response = get("/refused");

    assertThat(response.statusCode()).isEqualTo(429);
    assertThat(response.headers().firstValue("Retry-After")).hasValue("2");
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("application/json; charset=UTF-8");
    JsonObject body = json(response.body());
    assertThat(body.stringValue("error")).contains("RATE_LIMITED");
    assertThat(body.stringValue("message")).contains("Slow down.");
    assertThat(body.objectValue("metadata").orElseThrow().stringValue("retry_after_ms"))
        .contains("1200");
  }

  @Test
  void helidonHttpExceptionKeepsItsStatusAndMessage() throws Exception {
    HttpResponse<String> response = get("/bad");

    assertThat(response.statusCode()).isEqualTo(400);
    JsonObject body = json(response.body());
    assertThat(body.stringValue("error")).contains("BAD_REQUEST");
    assertThat(body.stringValue("message")).contains("roomId must be 1 to 64 characters.");
  }

  @Test
  void unexpectedExceptionIsAGeneric500AndLoggedWithItsCause() throws Exception {
    HttpResponse<String> response;
    List<ILoggingEvent> errors;
    // The deliberate failure's stack trace is checked here instead of printed on the console.
    try (CapturedLog log = CapturedLog.of(HttpErrors.class)) {
      response = get("/bug");
      errors = log.at(Level.ERROR);
    }

    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(response.body()).doesNotContain("secret");
    assertThat(json(response.body()).stringValue("error")).contains("INTERNAL");
    assertThat(errors)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getFormattedMessage()).isEqualTo("Request GET /bug failed");
              assertThat(e.getThrowableProxy().getMessage()).isEqualTo("secret internal state");
            });
  }

  @Test
  void wrongMethodOnAKnownPathIsJson404() throws Exception {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(uri("/")).DELETE().build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(json(response.body()).stringValue("message"))
        .contains("There is nothing at DELETE /.");
  }

  @Test
  void requestRefusedBeforeRoutingAlsoGetsJson() throws IOException {
    String response;
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      // A bound on a broken server, never a wait for behaviour.
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write("NOT-HTTP\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      // The server closes the connection after a malformed request, which ends the stream.
      response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    assertThat(response).startsWith("HTTP/1.1 400 ");
    assertThat(response).containsIgnoringCase("Content-Type: application/json");
    String body = response.substring(response.indexOf("\r\n\r\n") + 4);
    assertThat(json(body).stringValue("error")).contains("BAD_REQUEST");
  }

  /** A request whose body is itself a request: what a smuggler sends through a shared proxy. */
  private static String refusedRequestCarrying(String connection) {
    String inner = "GET /smuggled HTTP/1.1\r\nHost: bridge\r\n\r\n";
    return "POST /refused-early HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\n"
        + connection
        + "Content-Length: "
        + inner.length()
        + "\r\n\r\n"
        + inner;
  }

  /**
   * Everything the server sends on one connection until it closes it, after the client sent {@code
   * requests} and said it sends no more (as a client that asked to close does).
   */
  private static String exchange(String requests) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      socket.setSoTimeout(10_000); // a bound on a broken server, never a wait for behaviour
      OutputStream out = socket.getOutputStream();
      out.write(requests.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      socket.shutdownOutput();
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      try {
        socket.getInputStream().transferTo(received);
      } catch (SocketTimeoutException e) {
        throw new AssertionError(
            "the connection stayed open after: " + received.toString(StandardCharsets.UTF_8), e);
      }
      return received.toString(StandardCharsets.UTF_8);
    }
  }

  private static long statusLines(String responses) {
    // A status line follows the previous body directly, which need not end with a line break.
    return Pattern.compile("HTTP/1\\.1 \\d{3} ").matcher(responses).results().count();
  }

  @ParameterizedTest
  @ValueSource(ints = {JsonBodies.MAX_BODY + 100, (int) JsonBodies.MAX_PAYLOAD + 100})
  void aBodyTooLargeIsRefusedAndTheConnectionIsClosedOnlyIfTheAnswerSaysSo(int length)
      throws IOException {
    String body = "{\"text\":\"" + "x".repeat(length) + "\"}";
    String responses =
        exchange(
            "POST /read HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\n"
                + "Content-Length: "
                + body.length()
                + "\r\n\r\n"
                + body
                + "GET /probe HTTP/1.1\r\nHost: bridge\r\n\r\n");

    assertThat(responses).startsWith("HTTP/1.1 413 ");
    String first = responses.substring(0, responses.indexOf("\r\n\r\n"));
    // A client reuses a connection unless the answer says it closes: closing it anyway loses the
    // client's next request (the JDK's client sees "header parser received no bytes").
    if (!first.toLowerCase(java.util.Locale.ROOT).contains("connection: close")) {
      assertThat(responses).as("kept alive, so the next request is answered").endsWith("probe");
    }
  }

  @Test
  void theBodyOfARequestRefusedBeforeReadingItIsSkippedAndTheNextRequestAnswered()
      throws IOException {
    String responses =
        exchange(refusedRequestCarrying("") + "GET /probe HTTP/1.1\r\nHost: bridge\r\n\r\n");

    assertThat(responses).startsWith("HTTP/1.1 401 ").doesNotContain("smuggled").endsWith("probe");
    assertThat(statusLines(responses)).isEqualTo(2);
  }

  @Test
  void aConnectionTheClientAsksToCloseEndsAfterTheRefusal() throws IOException {
    String responses = exchange(refusedRequestCarrying("Connection: close\r\n"));

    assertThat(responses).startsWith("HTTP/1.1 401 ").doesNotContain("smuggled");
    assertThat(statusLines(responses)).isEqualTo(1);
  }

  @Test
  void aBodyShorterThanItsContentLengthIsABadRequestAndNoErrorInTheLog() throws IOException {
    String body = "{\"text\":";
    String request =
        "POST /read HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\n"
            + "Content-Length: "
            + (body.length() + 100)
            + "\r\n\r\n"
            + body;

    String response;
    List<String> errors;
    try (ErrorLog log = ErrorLog.open()) {
      // The client sends less than it declared, then closes its side.
      response = exchange(request);
      errors = log.errors();
    }

    assertThat(response).startsWith("HTTP/1.1 400 ");
    assertThat(response).containsIgnoringCase("Content-Type: application/json");
    assertThat(statusLines(response)).isEqualTo(1);
    String json = response.substring(response.indexOf("\r\n\r\n") + 4);
    assertThat(json(json).stringValue("error")).contains("INCOMPLETE_BODY");
    assertThat(errors).isEmpty();
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject json(String body) {
    return JsonParser.create(body).readJsonObject();
  }
}
