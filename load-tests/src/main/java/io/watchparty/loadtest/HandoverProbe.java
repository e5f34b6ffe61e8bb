package io.watchparty.loadtest;

import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.watchparty.client.ConnectionState;
import io.watchparty.client.RoomConnection;
import io.watchparty.client.RoomListener;
import io.watchparty.client.WatchPartyClient;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.Visibility;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The gap viewers see in a planned handover: a public room at one instance of a fleet, {@code
 * --viewers} clients of the Java client library in it (following {@code ROOM_MOVED} to the owner,
 * as apps do), its host seeking every {@code --interval-ms}; then the owning instance is sent
 * SIGTERM, hands the room to another live instance, and everyone follows. Prints, per viewer, the
 * time from the last event it received before the stop to the first after it (p50/p99/max), the
 * viewers that received nothing after it, and the time from the stop to the host's first command
 * accepted again.
 *
 * <p>Loopback only, bounded in viewers and time; it stops by itself. Exit status 0 when every
 * viewer received events after the stop, 1 otherwise.
 */
@CommandLine.Command(
    name = "handover-probe",
    mixinStandardHelpOptions = true,
    description =
        "Measures the gap viewers see when their room's instance stops and hands it over.")
public final class HandoverProbe implements Callable<Integer> {
  @Option(names = "--target", required = true, description = "the owning instance (loopback)")
  String target;

  @Option(names = "--secret", required = true, description = "the fleet's watchparty.auth.secret")
  String secret;

  @Option(names = "--owner-pid", required = true, description = "its process, sent SIGTERM")
  long ownerPid;

  @Option(names = "--viewers", defaultValue = "100", description = "viewers (1 to 1000)")
  int viewers;

  @Option(names = "--interval-ms", defaultValue = "100", description = "between host seeks")
  long intervalMs;

  @Option(names = "--before-ms", defaultValue = "3000", description = "seeking before the stop")
  long beforeMs;

  @Option(names = "--after-ms", defaultValue = "8000", description = "watching after the stop")
  long afterMs;

  public static void main(String[] args) {
    System.exit(new CommandLine(new HandoverProbe()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (viewers < 1 || viewers > 1_000) {
      throw new CommandLine.ParameterException(
          new CommandLine(this), "--viewers must be 1 to 1000");
    }
    Tokens tokens = new Tokens(secret);
    Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    Function<String, Channel> dial =
        address -> channels.computeIfAbsent(address, Loopback::channel);
    ManagedChannel first = Loopback.channel(target);
    List<WatchPartyClient> clients = new ArrayList<>();
    ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor();
    try {
      WatchPartyClient host = client(first, tokens.token("handover-host"), dial, clients);
      String roomId =
          host.createRoom(
                  "sintel",
                  "Handover probe",
                  RoomSettings.newBuilder().setVisibility(Visibility.PUBLIC).build())
              .get(20, TimeUnit.SECONDS)
              .getRoom()
              .getRoomId();
      RoomConnection hostRoom = host.join(roomId, new RoomListener() {});
      hostRoom.joined().get(20, TimeUnit.SECONDS);
      List<FleetViewer> watching = new ArrayList<>();
      List<RoomConnection> joins = new ArrayList<>();
      for (int i = 0; i < viewers; i++) {
        FleetViewer viewer = new FleetViewer();
        watching.add(viewer);
        joins.add(
            client(first, tokens.token("handover-viewer-" + i), dial, clients)
                .join(roomId, viewer));
      }
      for (RoomConnection join : joins) {
        join.joined().get(60, TimeUnit.SECONDS);
      }

      AtomicLong position = new AtomicLong();
      AtomicInteger refused = new AtomicInteger();
      AtomicLong stoppedAt = new AtomicLong(Long.MAX_VALUE);
      AtomicLong acceptedAgainAt = new AtomicLong(Long.MAX_VALUE);
      ticks.scheduleAtFixedRate(
          () ->
              hostRoom
                  .seek(position.addAndGet(1_000))
                  .whenComplete(
                      (accepted, failure) -> {
                        long now = System.nanoTime();
                        if (failure != null) {
                          refused.incrementAndGet();
                        } else if (now > stoppedAt.get()) {
                          acceptedAgainAt.accumulateAndGet(now, Math::min);
                        }
                      }),
          0,
          intervalMs,
          TimeUnit.MILLISECONDS);
      Thread.sleep(beforeMs);
      ProcessHandle owner =
          ProcessHandle.of(ownerPid)
              .orElseThrow(() -> new IllegalArgumentException("no process " + ownerPid));
      long stop = System.nanoTime();
      stoppedAt.set(stop);
      owner.destroy(); // SIGTERM
      Thread.sleep(afterMs);
      ticks.shutdownNow();

      List<Long> gaps = new ArrayList<>();
      int silent = 0;
      for (FleetViewer viewer : watching) {
        Optional<Long> gap = viewer.gapAroundNanos(stop);
        if (gap.isPresent()) {
          gaps.add(gap.get());
        } else {
          silent++;
        }
      }
      Collections.sort(gaps);
      System.out.printf(
          "viewers %d, seek every %d ms; owner pid %d stopped (SIGTERM)%n",
          viewers, intervalMs, ownerPid);
      if (!gaps.isEmpty()) {
        System.out.printf(
            "each viewer's gap around the stop (last event before, first after): p50 %.0f ms, p99"
                + " %.0f ms, max %.0f ms%n",
            millis(percentile(gaps, 0.50)), millis(percentile(gaps, 0.99)), millis(gaps.getLast()));
      }
      System.out.printf("viewers with no event after the stop: %d%n", silent);
      List<Long> told = new ArrayList<>();
      List<Long> back = new ArrayList<>();
      for (FleetViewer viewer : watching) {
        Optional<Long> leftAt = viewer.firstAtNanos(stop, Set.of(ConnectionState.RECONNECTING));
        leftAt.ifPresent(
            left -> {
              told.add(left - stop);
              viewer
                  .firstAtNanos(left, Set.of(ConnectionState.RESUMED, ConnectionState.RESYNCED))
                  .ifPresent(joined -> back.add(joined - left));
            });
      }
      Collections.sort(told);
      Collections.sort(back);
      if (!told.isEmpty() && !back.isEmpty()) {
        System.out.printf(
            "stop -> told to reconnect: p50 %.0f / max %.0f ms (%d viewers); told -> joined again:"
                + " p50 %.0f / p99 %.0f / max %.0f ms (%d)%n",
            millis(percentile(told, 0.50)),
            millis(told.getLast()),
            told.size(),
            millis(percentile(back, 0.50)),
            millis(percentile(back, 0.99)),
            millis(back.getLast()),
            back.size());
      }
      System.out.printf(
          "host's commands refused meanwhile: %d; first accepted again %s after the stop%n",
          refused.get(),
          acceptedAgainAt.get() == Long.MAX_VALUE
              ? "never"
              : "%.0f ms".formatted(millis(acceptedAgainAt.get() - stop)));
      return silent == 0 ? 0 : 1;
    } finally {
      ticks.shutdownNow();
      clients.forEach(WatchPartyClient::close);
      first.shutdownNow();
      channels.values().forEach(ManagedChannel::shutdownNow);
    }
  }

  private static WatchPartyClient client(
      Channel channel,
      String token,
      Function<String, Channel> dial,
      List<WatchPartyClient> clients) {
    WatchPartyClient client = WatchPartyClient.builder(channel, token).instances(dial).build();
    clients.add(client);
    return client;
  }

  private static long percentile(List<Long> sorted, double p) {
    return sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(p * sorted.size()) - 1));
  }

  private static double millis(long nanos) {
    return nanos / 1e6;
  }
}
