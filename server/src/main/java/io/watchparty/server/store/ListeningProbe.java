package io.watchparty.server.store;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Whether a process still listens at an instance's address, by opening a TCP connection to it (and
 * closing it at once), without blocking the caller.
 *
 * <p>Only a refused connection is an answer: the host is up and nothing listens on the port, so the
 * process that announced it is gone (killed, crashed) even if its heartbeat row has not expired
 * yet. A connection accepted, a timeout or any other failure (a partition, a host that is down)
 * proves nothing, and the heartbeat decides.
 */
final class ListeningProbe {
  /** What the probe found at the address. */
  enum Answer {
    /** The connection was refused: nothing listens there. */
    REFUSED,
    /** The connection was accepted, or the probe could not tell. */
    NOT_REFUSED
  }

  private final Duration timeout;

  ListeningProbe(Duration timeout) {
    this.timeout = timeout;
  }

  /**
   * Probes {@code address} ("host:port", "[v6]:port"). The address is resolved on a virtual thread
   * of its own (a host name may need a DNS lookup, which blocks), then connected to asynchronously.
   */
  CompletionStage<Answer> probe(String address) {
    return CompletableFuture.supplyAsync(() -> socketAddress(address), RESOLVER)
        .thenCompose(this::connect)
        .exceptionally(unresolvable -> Answer.NOT_REFUSED);
  }

  private static final Executor RESOLVER = Thread.ofVirtual().name("listening-probe")::start;

  private CompletionStage<Answer> connect(InetSocketAddress target) {
    CompletableFuture<Answer> answer = new CompletableFuture<>();
    AsynchronousSocketChannel channel;
    try {
      channel = AsynchronousSocketChannel.open();
    } catch (IOException e) {
      return CompletableFuture.completedFuture(Answer.NOT_REFUSED);
    }
    channel.connect(
        target,
        null,
        new CompletionHandler<Void, Void>() {
          @Override
          public void completed(Void result, Void attachment) {
            answer.complete(Answer.NOT_REFUSED);
          }

          @Override
          public void failed(Throwable failure, Void attachment) {
            answer.complete(
                failure instanceof ConnectException ? Answer.REFUSED : Answer.NOT_REFUSED);
          }
        });
    return answer
        .completeOnTimeout(Answer.NOT_REFUSED, timeout.toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete((found, failure) -> closeQuietly(channel));
  }

  static InetSocketAddress socketAddress(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      throw new IllegalArgumentException("not host:port: " + address);
    }
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not host:port: " + address, e);
    }
    return new InetSocketAddress(host, port);
  }

  private static void closeQuietly(AsynchronousSocketChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // Closing a probe's socket: nothing to do.
    }
  }
}
