package io.watchparty.bridge;

import io.grpc.CallCredentials;
import io.grpc.StatusRuntimeException;
import io.watchparty.proto.v1.DemoAuthServiceGrpc;
import io.watchparty.proto.v1.IssueDemoTokenRequest;
import io.watchparty.proto.v1.IssueDemoTokenResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bridge's own credential for its relay streams: the configured relay token, or, against a
 * server in demo mode, the demo relay account's token, fetched at start and renewed before it
 * expires. Used for nothing a browser asks for: those calls carry the browser user's token.
 */
final class RelayAccount implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RelayAccount.class);

  /** The demo account with the relay claim (see the server's DemoUsers). */
  static final String DEMO_RELAY_USER = "web-bridge";

  private static final Duration RETRY = Duration.ofSeconds(2);

  private final AtomicReference<String> token = new AtomicReference<>("");
  private final Optional<DemoAuthServiceGrpc.DemoAuthServiceBlockingStub> demo;
  private final ScheduledExecutorService timers;
  private volatile ScheduledFuture<?> renewal;
  private volatile boolean closed;

  private RelayAccount(
      Optional<String> configured,
      Optional<DemoAuthServiceGrpc.DemoAuthServiceBlockingStub> demo,
      ScheduledExecutorService timers) {
    configured.ifPresent(token::set);
    this.demo = demo;
    this.timers = timers;
  }

  /** The configured token, or (when there is none) the demo relay account's, renewed. */
  static RelayAccount start(
      Optional<String> configured, Upstream upstream, ScheduledExecutorService timers) {
    if (configured.isPresent()) {
      return new RelayAccount(configured, Optional.empty(), timers);
    }
    var account =
        new RelayAccount(
            Optional.empty(),
            Optional.of(DemoAuthServiceGrpc.newBlockingStub(upstream.channel())),
            timers);
    account.renew();
    return account;
  }

  CallCredentials credentials() {
    return BearerToken.current(token::get);
  }

  private void renew() {
    if (closed) {
      return;
    }
    Duration next;
    try {
      IssueDemoTokenResponse issued =
          demo.orElseThrow()
              .withDeadlineAfter(5, TimeUnit.SECONDS)
              .issueDemoToken(
                  IssueDemoTokenRequest.newBuilder().setUserId(DEMO_RELAY_USER).build());
      token.set(issued.getToken());
      long lifetime = issued.getExpiresAtMs() - System.currentTimeMillis();
      // Renew at three quarters of the lifetime: streams opened later carry a valid token.
      next = Duration.ofMillis(Math.max(RETRY.toMillis(), lifetime * 3 / 4));
    } catch (StatusRuntimeException e) {
      log.warn(
          "No relay token: {} is not set and the server gave no demo relay token ({}); retrying in"
              + " {} s",
          BridgeSettings.TOKEN_KEY,
          e.getStatus().getCode(),
          RETRY.toSeconds());
      next = RETRY;
    }
    renewal = timers.schedule(this::renewOnAnotherThread, next.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void renewOnAnotherThread() {
    // The timer thread only hands work on: the call blocks for up to its deadline.
    Thread.ofVirtual().name("relay-token-renewal").start(this::renew);
  }

  @Override
  public void close() {
    closed = true;
    ScheduledFuture<?> pending = renewal;
    if (pending != null) {
      pending.cancel(false);
    }
  }
}
