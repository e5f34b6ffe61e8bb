package io.watchparty.bridge;

import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

/**
 * Reads to its end every request body a handler left unread, whether the handler answered or
 * refused early (no session, a cross-site request, a bad path), so that the body's bytes are never
 * taken for the next request on the connection. Helidon 4.5 skips the body when the response says
 * {@code Connection: close} and then goes on reading the connection, so a body that is itself a
 * request was answered as one: request smuggling behind any proxy that reuses connections.
 *
 * <p>It runs around every other filter and handler, and before the error handlers send a refusal. A
 * body is bounded by the listener's maximum payload size ({@link WebBridge}), so the read is too.
 */
final class UnreadBodies implements Filter {
  @Override
  public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
    try {
      chain.proceed();
    } finally {
      if (req.content().hasEntity() && !req.content().consumed()) {
        try {
          req.content().consume();
        } catch (RuntimeException e) {
          // Past the payload limit, or the client went away: the connection cannot be reused.
          throw new CloseConnectionException("an unread request body could not be skipped", e);
        }
      }
    }
  }
}
