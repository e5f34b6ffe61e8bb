package io.watchparty.server.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
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

  /** Drops every connection (the driver sees them close and reconnects) and forwards again. */
  public void restore() {
    for (Socket socket : sockets) {
      closeQuietly(socket);
    }
    forwarding = true;
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        sockets.add(client);
        if (!forwarding) {
          Thread.ofVirtual().start(() -> pump(client, null));
          continue;
        }
        Socket upstream = new Socket(target.getAddress(), target.getPort());
        sockets.add(upstream);
        Thread.ofVirtual().start(() -> pump(client, upstream));
        Thread.ofVirtual().start(() -> pump(upstream, client));
      } catch (IOException e) {
        // closed
      }
    }
  }

  /** Copies {@code from} to {@code to} while forwarding; swallows what arrives otherwise. */
  private void pump(Socket from, Socket to) {
    byte[] buffer = new byte[16 * 1024];
    try (InputStream in = from.getInputStream()) {
      OutputStream out = to == null ? null : to.getOutputStream();
      int n;
      while ((n = in.read(buffer)) >= 0) {
        if (forwarding && out != null) {
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
