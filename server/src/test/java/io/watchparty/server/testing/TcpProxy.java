package io.watchparty.server.testing;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.metadata.Node;
import io.watchparty.server.store.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy in front of the Cassandra node that a test can turn into a black hole: connections
 * stay open and requests are swallowed, so the driver's requests time out (as with a hung or
 * partitioned node), and new connections are accepted but never answered. {@link #restore} closes
 * every swallowed connection, so the driver reconnects, and forwards again.
 */
public final class TcpProxy implements AutoCloseable {
  private final InetSocketAddress target;
  private final ServerSocket server;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private volatile boolean forwarding = true;
  private volatile boolean answering = true;
  private volatile boolean refusing;

  public TcpProxy(InetSocketAddress target) {
    this.target = target;
    try {
      this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Thread.ofVirtual().name("proxy-accept").start(this::accept);
  }

  public InetSocketAddress address() {
    return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
  }

  /** From now on nothing gets through, in either direction; nothing is closed either. */
  public void blackHole() {
    forwarding = false;
  }

  /**
   * From now on requests reach the node but its answers are swallowed: writes are applied and their
   * senders never hear so, as when a connection dies after the request went out.
   */
  public void loseAnswers() {
    answering = false;
  }

  /**
   * As a crashed node: every connection is closed, and new ones are closed as soon as they are
   * accepted, so the driver marks the node down.
   */
  public void down() {
    refusing = true;
    for (Socket socket : sockets) {
      closeQuietly(socket);
    }
  }

  /** Drops every connection (the driver sees them close and reconnects) and forwards again. */
  public void restore() {
    for (Socket socket : sockets) {
      closeQuietly(socket);
    }
    refusing = false;
    forwarding = true;
    answering = true;
  }

  /**
   * A session on {@code storage}'s keyspace that reaches its node only through a new proxy, with a
   * short request timeout and quick reconnections; closing the session closes the proxy.
   */
  public static Proxied session(Storage storage, Duration requestTimeout) {
    Node node = storage.session().getMetadata().getNodes().values().iterator().next();
    TcpProxy proxy = new TcpProxy((InetSocketAddress) node.getEndPoint().resolve());
    CqlSession proxied =
        CqlSession.builder()
            .addContactPoint(proxy.address())
            .withLocalDatacenter(node.getDatacenter())
            .withKeyspace(CqlIdentifier.fromInternal(storage.keyspace()))
            .withConfigLoader(
                DriverConfigLoader.programmaticBuilder()
                    .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, requestTimeout)
                    .withString(DefaultDriverOption.REQUEST_CONSISTENCY, "LOCAL_QUORUM")
                    .withString(DefaultDriverOption.REQUEST_SERIAL_CONSISTENCY, "LOCAL_SERIAL")
                    .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, requestTimeout)
                    .withString(
                        DefaultDriverOption.RECONNECTION_POLICY_CLASS,
                        "ExponentialReconnectionPolicy")
                    .withDuration(
                        DefaultDriverOption.RECONNECTION_BASE_DELAY, Duration.ofMillis(100))
                    .withDuration(DefaultDriverOption.RECONNECTION_MAX_DELAY, Duration.ofSeconds(1))
                    .withStringList(
                        DefaultDriverOption.METADATA_SCHEMA_REFRESHED_KEYSPACES,
                        List.of(storage.keyspace()))
                    .withInt(DefaultDriverOption.NETTY_IO_SHUTDOWN_QUIET_PERIOD, 0)
                    .withInt(DefaultDriverOption.NETTY_ADMIN_SHUTDOWN_QUIET_PERIOD, 0)
                    .build())
            .build();
    // A TestServer closes this session after the server; the proxy goes last.
    proxied.closeFuture().thenRun(proxy::close);
    return new Proxied(proxy, proxied);
  }

  /** A session and the proxy it goes through. */
  public record Proxied(TcpProxy proxy, CqlSession session) {}

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        sockets.add(client);
        if (refusing) {
          closeQuietly(client);
          continue;
        }
        if (!forwarding) {
          Thread.ofVirtual().start(() -> pump(client, null, false));
          continue;
        }
        Socket upstream = new Socket(target.getAddress(), target.getPort());
        sockets.add(upstream);
        Thread.ofVirtual().start(() -> pump(client, upstream, false));
        Thread.ofVirtual().start(() -> pump(upstream, client, true));
      } catch (IOException e) {
        // closed
      }
    }
  }

  /**
   * Copies {@code from} to {@code to} while forwarding (and, for the node's {@code answers}, while
   * answering); swallows what arrives otherwise.
   */
  private void pump(Socket from, Socket to, boolean answers) {
    byte[] buffer = new byte[16 * 1024];
    try (InputStream in = from.getInputStream()) {
      OutputStream out = to == null ? null : to.getOutputStream();
      int n;
      while ((n = in.read(buffer)) >= 0) {
        if (forwarding && (answering || !answers) && out != null) {
          out.write(buffer, 0, n);
          out.flush();
        }
      }
    } catch (IOException e) {
      // closed
    } finally {
      closeQuietly(from);
      if (to != null) {
        closeQuietly(to);
      }
    }
  }

  private void closeQuietly(Socket socket) {
    sockets.remove(socket);
    try {
      socket.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      // already closed
    }
    sockets.forEach(this::closeQuietly);
  }
}
