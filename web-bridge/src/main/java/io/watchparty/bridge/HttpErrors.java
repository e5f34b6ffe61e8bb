package io.watchparty.bridge;

import com.google.rpc.ErrorInfo;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.helidon.common.buffers.DataReader;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderValues;
import io.helidon.http.HttpException;
import io.helidon.http.HttpMediaTypes;
import io.helidon.http.NotFoundException;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.watchparty.bridge.relay.RoomOwners;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become HTTP responses (the project's rule: over HTTP every error has
 * the right status and a JSON body, see {@link ApiError}).
 *
 * <p>Handlers do not catch to format errors: they throw, and the routing sends the error.
 *
 * <ul>
 *   <li>an {@link ApiException} is a refusal of the bridge's own, sent as it is;
 *   <li>a Helidon {@link HttpException} (e.g. {@code new BadRequestException("...")}) keeps its
 *       status and, below 500, its message;
 *   <li>a body that ends before its {@code Content-Length} (or last chunk), because the client
 *       closed the connection, is the client's fault: 400 {@code INCOMPLETE_BODY}, and the
 *       connection closes;
 *   <li>a gRPC {@link StatusRuntimeException} from an upstream call gets the HTTP status of its
 *       code, and the server's {@code google.rpc.ErrorInfo} reason and metadata when it has them;
 *   <li>anything else is a bug: logged here, sent as a bare 500.
 * </ul>
 *
 * <p>A handler that refuses before it reads the request's body leaves it to {@link UnreadBodies}.
 *
 * <p>Requests Helidon refuses before routing (a malformed request line, an oversized header) go
 * through {@link #directHandlers()}, which answer in the same JSON shape.
 */
final class HttpErrors {
  private static final Logger log = LoggerFactory.getLogger(HttpErrors.class);

  /** The {@code ErrorInfo.domain} of the WatchParty server, whose messages are fit for users. */
  static final String DOMAIN = RoomOwners.DOMAIN;

  // The status nginx and Google APIs use for a request the client abandoned.
  private static final Status CLIENT_CLOSED_REQUEST = Status.create(499, "Client Closed Request");

  private HttpErrors() {}

  /** Routes every failure of {@code routing}'s handlers, including "no such route", here. */
  static void register(HttpRouting.Builder routing) {
    register(routing, reason -> {});
  }

  /** As {@link #register(HttpRouting.Builder)}, telling {@code refusals} each refusal's reason. */
  static void register(HttpRouting.Builder routing, Consumer<String> refusals) {
    routing
        // First, so that it sees every refusal, including the other filters'.
        .addFilter(new UnreadBodies())
        .error(
            ApiException.class,
            (req, res, e) -> {
              refusals.accept(e.error().error());
              e.error().send(res);
            })
        .error(HttpException.class, HttpErrors::onHttpException)
        .error(
            DataReader.InsufficientDataAvailableException.class,
            (req, res, e) -> {
              // The client closed the connection before the body it declared was complete: its
              // fault, not the bridge's. Nothing more can be read from the connection.
              ApiError error =
                  new ApiError(
                      Status.BAD_REQUEST_400,
                      "INCOMPLETE_BODY",
                      "The connection ended before the body was complete.");
              refusals.accept(error.error());
              res.header(HeaderValues.CONNECTION_CLOSE);
              error.send(res);
            })
        .error(
            StatusRuntimeException.class,
            (req, res, e) -> {
              ApiError error = fromGrpc(e);
              refusals.accept(error.error());
              if (error.status().code() >= 500) {
                log.warn("Upstream call for {} failed: {}", target(req), e.getStatus());
              }
              error.send(res);
            })
        .error(Exception.class, HttpErrors::onUnexpected);
  }

  /** JSON answers for the requests the server refuses before they reach the routing. */
  static DirectHandlers directHandlers() {
    DirectHandler handler =
        (request, eventType, status, headers, message) -> {
          ApiError error = fromStatus(status, Optional.ofNullable(message));
          headers.contentType(HttpMediaTypes.JSON_UTF_8);
          return DirectHandler.TransportResponse.builder()
              .status(status)
              .headers(headers)
              .entity(error.toJson().getBytes(StandardCharsets.UTF_8))
              .build();
        };
    DirectHandlers.Builder handlers = DirectHandlers.builder();
    for (DirectHandler.EventType type : DirectHandler.EventType.values()) {
      handlers.addHandler(type, handler);
    }
    return handlers.build();
  }

  private static void onHttpException(ServerRequest req, ServerResponse res, HttpException e) {
    e.headers().forEach(res::header);
    if (e instanceof NotFoundException) {
      // Helidon's own message ("Endpoint not found") does not say which endpoint.
      new ApiError(e.status(), "NOT_FOUND", "There is nothing at " + target(req) + ".").send(res);
      return;
    }
    if (e.status().code() >= 500) {
      log.error("Request {} failed", target(req), e);
    }
    fromStatus(e.status(), Optional.ofNullable(e.getMessage())).send(res);
  }

  private static void onUnexpected(ServerRequest req, ServerResponse res, Exception e) {
    log.error("Request {} failed", target(req), e);
    new ApiError(
            Status.INTERNAL_SERVER_ERROR_500,
            "INTERNAL",
            "The bridge failed to handle this request; the failure was logged.")
        .send(res);
  }

  /**
   * The error for a failed upstream call. The server's own refusals carry an {@code ErrorInfo} in
   * its domain and a message meant for the caller, which pass through; messages gRPC made up about
   * transport or server failures do not, as they can name internals.
   */
  static ApiError fromGrpc(StatusRuntimeException e) {
    Code code = e.getStatus().getCode();
    Status status = httpStatus(code);
    Optional<ErrorInfo> info = RoomOwners.errorInfo(e);
    String description = Optional.ofNullable(e.getStatus().getDescription()).orElse("").strip();
    if (info.isPresent() && info.get().getReason().equals(RoomOwners.ROOM_MOVED)) {
      // A move the bridge could not follow. The owner's address is the fleet's own: a browser
      // reaches a room only through a bridge, so it is told to try again, not where the owner is.
      Map<String, String> room =
          info.get().getMetadataMap().entrySet().stream()
              .filter(entry -> entry.getKey().equals("room_id"))
              .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
      return new ApiError(
          status,
          RoomOwners.ROOM_MOVED,
          "The room is moving to another server; try again shortly.",
          room);
    }
    if (info.isPresent() && !description.isEmpty()) {
      return new ApiError(status, info.get().getReason(), description, info.get().getMetadataMap());
    }
    String message =
        switch (code) {
          case INVALID_ARGUMENT,
              NOT_FOUND,
              ALREADY_EXISTS,
              PERMISSION_DENIED,
              UNAUTHENTICATED,
              RESOURCE_EXHAUSTED,
              FAILED_PRECONDITION,
              ABORTED,
              OUT_OF_RANGE ->
              description.isEmpty() ? status.reasonPhrase() + "." : description;
          case UNAVAILABLE -> "The watch-party server is unavailable; try again shortly.";
          case DEADLINE_EXCEEDED -> "The watch-party server did not answer in time.";
          case CANCELLED -> "The request was cancelled.";
          case UNIMPLEMENTED -> "The watch-party server does not support this request.";
          case OK, UNKNOWN, INTERNAL, DATA_LOSS ->
              "The watch-party server failed to handle this request.";
        };
    return new ApiError(
        status,
        info.map(ErrorInfo::getReason).orElse(code.name()),
        message,
        info.map(ErrorInfo::getMetadataMap).orElse(Map.of()));
  }

  /**
   * The HTTP status of each gRPC code, as {@code google.rpc.Code} documents it, except that a
   * failed precondition (the room is closed, the title is not licensed in your region) is 412, so
   * that a page tells "the request is fine, the room's state forbids it" from a malformed request.
   */
  static Status httpStatus(Code code) {
    return switch (code) {
      case OK -> Status.OK_200;
      case CANCELLED -> CLIENT_CLOSED_REQUEST;
      case FAILED_PRECONDITION -> Status.PRECONDITION_FAILED_412;
      case INVALID_ARGUMENT, OUT_OF_RANGE -> Status.BAD_REQUEST_400;
      case DEADLINE_EXCEEDED -> Status.GATEWAY_TIMEOUT_504;
      case NOT_FOUND -> Status.NOT_FOUND_404;
      case ALREADY_EXISTS, ABORTED -> Status.CONFLICT_409;
      case PERMISSION_DENIED -> Status.FORBIDDEN_403;
      case UNAUTHENTICATED -> Status.UNAUTHORIZED_401;
      case RESOURCE_EXHAUSTED -> Status.TOO_MANY_REQUESTS_429;
      case UNIMPLEMENTED -> Status.NOT_IMPLEMENTED_501;
      case UNAVAILABLE -> Status.SERVICE_UNAVAILABLE_503;
      case UNKNOWN, INTERNAL, DATA_LOSS -> Status.INTERNAL_SERVER_ERROR_500;
    };
  }

  /**
   * An error for a bare HTTP status: the category is the reason phrase in upper snake case ({@code
   * NOT_FOUND}), the message is the given one below 500 and a generic one from 500 on, where
   * messages come from exceptions and could name internals.
   */
  static ApiError fromStatus(Status status, Optional<String> message) {
    String category =
        status.reasonPhrase().strip().toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]+", "_");
    String text =
        message
            .map(String::strip)
            .filter(m -> !m.isEmpty() && status.code() < 500)
            .orElse(status.reasonPhrase() + ".");
    return new ApiError(status, category, text);
  }

  /** {@code GET /path}, without the query, which may carry tokens. */
  private static String target(ServerRequest req) {
    return req.prologue().method().text() + " " + req.prologue().uriPath().path();
  }
}
