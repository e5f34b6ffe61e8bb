package io.watchparty.bridge;

import io.helidon.common.socket.HelidonSocket;
import io.helidon.http.Headers;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1ConnectionListener;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices a browser closing the connection of its event stream while the bridge writes nothing to
 * it. Helidon reads a connection only between requests, so a closed stream was noticed only when a
 * write failed: the first keep-alive after the close still reaches the kernel (the browser answers
 * it with a reset), the second fails, up to two heartbeats later, all the while holding one of the
 * user's stream slots. A watch reads the connection instead and sees the close at once.
 *
 * <p>Registered as the HTTP/1 receive listener, it learns each request's connection from its
 * headers, on the thread that then handles the request ({@link #watch} must be called from that
 * thread). The watch discards what it reads, so the connection must end with the response it
 * watches: say {@code Connection: close} and throw Helidon's {@code CloseConnectionException} once
 * the response is complete (Helidon 4.5 reads on after a response that says {@code Connection:
 * close}). An event stream has no request after it anyway: {@code EventSource} opens a new
 * connection to reconnect.
 */
final class ClosedConnections implements Http1ConnectionListener {
  private static final Logger log = LoggerFactory.getLogger(ClosedConnections.class);

  // The connection whose request this thread handles: Helidon runs an HTTP/1 connection's requests
  // on the connection's own virtual thread, which dies with it.
  private final ThreadLocal<ConnectionContext> handled = new ThreadLocal<>();

  @Override
  public void headers(ConnectionContext connection, Headers headers) {
    handled.set(connection);
  }

  /** A watch over one request's connection; closing it makes a later close of the peer no news. */
  static final class Watch implements AutoCloseable {
    private final AtomicBoolean over = new AtomicBoolean();
    private final CountDownLatch peerClosed = new CountDownLatch(1);

    @Override
    public void close() {
      over.set(true);
    }

    /**
     * Waits, at most {@code timeout}, until the client closed (or reset) its side of the
     * connection, or the connection ended otherwise; false if it had not by then.
     */
    boolean awaitPeerClose(Duration timeout) throws InterruptedException {
      return peerClosed.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Calls {@code onClosed}, once, when the client closes (or resets) the connection of the request
   * this thread handles, unless the returned watch was closed first. Empty when the request came
   * over no connection this listener saw.
   */
  Optional<Watch> watch(Runnable onClosed) {
    ConnectionContext connection = handled.get();
    if (connection == null) {
      return Optional.empty();
    }
    HelidonSocket socket = connection.serverSocket();
    Watch watch = new Watch();
    Thread.ofVirtual()
        .name("connection-watch-" + connection.childSocketId())
        .start(
            () -> {
              try {
                // get() blocks for the next bytes and is null at the end of the stream (read()
                // would answer 0 there, for ever). It reads on after the watch closed, to the end:
                // unread bytes at the server's close would make it a reset (see awaitPeerClose).
                while (socket.get() != null) {
                  // Whatever the client sends after its request is not read by anyone.
                }
              } catch (RuntimeException closed) {
                // Reset by the peer, or closed by the server once the response ended: either way,
                // nothing more comes from this connection.
                log.debug("Connection {} ended: {}", connection.childSocketId(), closed.toString());
              }
              watch.peerClosed.countDown();
              if (watch.over.compareAndSet(false, true)) {
                onClosed.run();
              }
            });
    return Optional.of(watch);
  }
}
