package io.watchparty.loadtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * One selector thread driving thousands of {@link SseConnection}s: a platform thread, one direct
 * read buffer shared by all its connections, no thread or buffer per connection. Connections are
 * handed to it by {@link #start}; {@link #close} stops the thread and closes them all.
 */
final class EventLoop implements AutoCloseable {
  private static final long SWEEP_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final InetSocketAddress bridge;
  private final Selector selector;
  private final Queue<SseConnection> starting = new ConcurrentLinkedQueue<>();
  private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);
  private final Thread thread;
  private volatile boolean stopping;

  // Loop thread only.
  private final List<SseConnection> connections = new ArrayList<>();
  private long nextSweep;

  EventLoop(String name, InetSocketAddress bridge) {
    this.bridge = bridge;
    try {
      this.selector = Selector.open();
    } catch (IOException e) {
      throw new UncheckedIOException("could not open a selector", e);
    }
    this.thread = Thread.ofPlatform().name(name).unstarted(this::run);
    thread.start();
  }

  /** CPU time the loop thread has used, in nanoseconds. */
  long cpuNanos() {
    return ManagementFactory.getThreadMXBean().getThreadCpuTime(thread.threadId());
  }

  /** Opens {@code connection}'s socket on the loop thread; returns at once. */
  void start(SseConnection connection) {
    starting.add(connection);
    selector.wakeup();
  }

  /** Stops the loop and closes every connection; the loop's data may be read after it returns. */
  @Override
  public void close() throws InterruptedException {
    stopping = true;
    selector.wakeup();
    thread.join();
  }

  private void run() {
    try {
      while (!stopping) {
        selector.select(1000);
        open();
        long now = System.nanoTime(); // one clock read for every event of this wake-up
        for (SelectionKey key : selector.selectedKeys()) {
          handle(key, now);
        }
        selector.selectedKeys().clear();
        sweep(now);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("the selector failed", e);
    } finally {
      connections.forEach(SseConnection::close);
      try {
        selector.close();
      } catch (IOException e) {
        // Closing at the end of the run: nothing left to do about a failure.
      }
    }
  }

  private void open() {
    for (SseConnection connection; (connection = starting.poll()) != null; ) {
      connections.add(connection);
      try {
        SocketChannel channel = SocketChannel.open();
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        if (connection.source() != null) {
          channel.bind(connection.source());
        }
        SelectionKey key = channel.register(selector, SelectionKey.OP_CONNECT, connection);
        connection.connecting(key);
        if (channel.connect(bridge)) {
          connection.onConnectable();
        }
      } catch (IOException e) {
        connection.fail("connect: " + e.getMessage());
      }
    }
  }

  private void handle(SelectionKey key, long now) {
    SseConnection connection = (SseConnection) key.attachment();
    try {
      if (!key.isValid()) {
        return;
      }
      if (key.isConnectable()) {
        connection.onConnectable();
      } else if (key.isWritable()) {
        connection.onWritable();
      } else if (key.isReadable()) {
        read(key, connection, now);
      }
    } catch (IOException e) {
      connection.fail("I/O: " + e.getMessage());
    } catch (HttpResponseReader.MalformedResponseException e) {
      connection.fail("malformed response: " + e.getMessage());
    }
  }

  private void read(SelectionKey key, SseConnection connection, long now) throws IOException {
    readBuffer.clear();
    int n = ((SocketChannel) key.channel()).read(readBuffer);
    if (n < 0) {
      connection.onEndOfStream();
      return;
    }
    readBuffer.flip();
    connection.onRead(readBuffer, now);
  }

  private void sweep(long now) {
    if (now < nextSweep) {
      return;
    }
    nextSweep = now + SWEEP_NANOS;
    for (SseConnection connection : connections) {
      connection.expire(now);
    }
  }
}
