package io.watchparty.loadtest;

import io.grpc.Channel;
import io.watchparty.client.RoomConnection;
import io.watchparty.client.RoomListener;
import io.watchparty.client.WatchPartyClient;
import io.watchparty.terminal.ClockedPlayer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Players kept in sync by the client library, as real apps are: each a {@link WatchPartyClient} of
 * its own (clock estimation, the player adapter's drift correction with the room's sync policy)
 * driving a {@link ClockedPlayer}, all in one room. They are read at the same sampled instants, one
 * right after the other; at each instant where all of them play, the error of each player against
 * the first is recorded, so the figure is what two viewers' screens would differ by.
 */
final class SimulatedPlayers implements AutoCloseable {
  private static final long SAMPLE_MILLIS = 20;

  private final List<WatchPartyClient> clients = new ArrayList<>();
  private final List<ClockedPlayer> players = new ArrayList<>();
  private final List<AutoCloseable> attachments = new ArrayList<>();
  private final Histogram errorMicros = new Histogram(TimeUnit.SECONDS.toMicros(600), 3);
  private final List<RunResult.SyncPoint> timeline = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
  private long samplingStart;

  private SimulatedPlayers() {}

  /** Joins {@code count} players to the room and waits until their clocks are estimated. */
  static SimulatedPlayers join(Channel channel, Tokens tokens, String roomId, int count)
      throws Exception {
    var simulated = new SimulatedPlayers();
    long origin = System.nanoTime();
    List<RoomConnection> connections = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      var client = WatchPartyClient.builder(channel, tokens.token("lt-player-" + i)).build();
      simulated.clients.add(client);
      RoomConnection connection = client.join(roomId, new RoomListener() {});
      connections.add(connection);
      var player = new ClockedPlayer(() -> (System.nanoTime() - origin) / 1_000_000);
      simulated.players.add(player);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (int i = 0; i < count; i++) {
      RoomConnection connection = connections.get(i);
      connection.joined().get(30, TimeUnit.SECONDS);
      while (!connection.clockReady() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      simulated.attachments.add(connection.attachPlayer(simulated.players.get(i)));
    }
    return simulated;
  }

  void startSampling() {
    samplingStart = System.nanoTime();
    sampler.scheduleAtFixedRate(this::sample, 0, SAMPLE_MILLIS, TimeUnit.MILLISECONDS);
  }

  private void sample() {
    int n = players.size();
    double[] positions = new double[n];
    for (int i = 0; i < n; i++) {
      ClockedPlayer player = players.get(i);
      if (!player.playing()) {
        return;
      }
      positions[i] = player.positionMs();
    }
    double worst = 0;
    for (int i = 1; i < n; i++) {
      double error = Math.abs(positions[i] - positions[0]);
      worst = Math.max(worst, error);
      errorMicros.recordValue(
          Math.min((long) (error * 1000), errorMicros.getHighestTrackableValue()));
    }
    timeline.add(new RunResult.SyncPoint((System.nanoTime() - samplingStart) / 1e9, worst));
  }

  /** Stops sampling; what was sampled may be read afterwards. */
  RunResult.Sync stop() throws InterruptedException {
    sampler.shutdown();
    sampler.awaitTermination(5, TimeUnit.SECONDS);
    return new RunResult.Sync(players.size(), errorMicros.copy(), List.copyOf(timeline));
  }

  @Override
  public void close() {
    sampler.shutdownNow();
    for (AutoCloseable attachment : attachments) {
      try {
        attachment.close();
      } catch (Exception e) {
        // Ending the run: a player that cannot detach changes nothing measured.
      }
    }
    clients.forEach(WatchPartyClient::close);
  }
}
