package io.watchparty.server.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.watchparty.server.room.Instances;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live server instances, in Cassandra's {@code instances} table: this instance writes its row
 * every {@link #HEARTBEAT} with a time to live of {@link #LIFETIME}, so the row is gone soon after
 * the instance stops answering, and deletes it when it stops. Another instance is alive while its
 * row is there and its address does not refuse connections (asked only of a room's former owner).
 */
public final class CassandraInstances implements Instances, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CassandraInstances.class);

  /** How often this instance writes its row. */
  public static final Duration HEARTBEAT = Duration.ofMillis(500);

  /**
   * How long a row outlives its last heartbeat: four heartbeats, so that one slow write does not
   * make a live instance look dead (which would cost its rooms a needless takeover, never safety),
   * and short, because it is most of how long a crashed instance's rooms wait for a new owner.
   */
  public static final Duration LIFETIME = Duration.ofSeconds(2);

  /**
   * How long a probe of another instance's address may take: a loopback or LAN connection is
   * accepted or refused within milliseconds; past this the probe proves nothing.
   */
  static final Duration PROBE_TIMEOUT = Duration.ofMillis(300);

  private final CqlSession session;
  private volatile Instance self;
  private final long startedMs;
  private final IntSupplier rooms;
  private final PreparedStatement beat;
  private final PreparedStatement delete;
  private final PreparedStatement all;
  private final ListeningProbe probe = new ListeningProbe(PROBE_TIMEOUT);
  private final AtomicBoolean failing = new AtomicBoolean();

  /** When the last heartbeat stored was sent (nanoTime); 0 before the first. */
  private final AtomicLong lastSentAndStored = new AtomicLong();

  private volatile Runnable lapsed = () -> {};
  private ScheduledFuture<?> heartbeats;

  /**
   * @param self this instance, with the address it will listen on ({@link #start} may correct it)
   * @param rooms how many rooms this instance holds now, written with each heartbeat
   */
  public CassandraInstances(
      CqlSession session, Instance self, InstantSource clock, IntSupplier rooms) {
    this.session = session;
    this.self = self;
    this.startedMs = clock.millis();
    this.rooms = rooms;
    this.beat =
        session.prepare(
            "INSERT INTO instances (instance_id, address, started_ms, rooms) VALUES (?, ?, ?, ?)"
                + " USING TTL "
                + LIFETIME.toSeconds());
    this.delete = session.prepare("DELETE FROM instances WHERE instance_id = ?");
    // A fleet's instances: a few rows, one page.
    this.all = session.prepare("SELECT instance_id, address FROM instances");
  }

  /**
   * Starts the heartbeats on {@code scheduler}, the first one at once, announcing {@code address}
   * (the one the server listens on, known once it started). {@code lapsed} runs when a heartbeat is
   * stored after a gap in which this instance's row may have expired (a pause, a GC, Cassandra out
   * of reach): other instances may have taken its rooms meanwhile.
   */
  public void start(String address, ScheduledExecutorService scheduler, Runnable lapsed) {
    self = new Instance(self.id(), address);
    this.lapsed = lapsed;
    heartbeats =
        scheduler.scheduleWithFixedDelay(
            this::beat, 0, HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void beat() {
    long sentAt = System.nanoTime();
    session
        .executeAsync(beat.bind(self.id(), self.address(), startedMs, rooms.getAsInt()))
        .whenComplete(
            (done, failure) -> {
              if (failure == null) {
                stored(sentAt);
              }
              // The next beat tries again; missing a few only lets another instance claim the
              // rooms a client asks it for, which the epochs keep safe. Said once per outage.
              if (failure != null && !failing.getAndSet(true)) {
                log.warn("Instance {}: heartbeat not stored ({})", self.id(), failure.toString());
              } else if (failure == null && failing.getAndSet(false)) {
                log.info("Instance {}: heartbeats stored again", self.id());
              }
            });
  }

  /**
   * A heartbeat sent at {@code sentAt} was stored. The row lives {@link #LIFETIME} from when the
   * last one was written, which is after it was sent: if this one was stored {@link #LIFETIME} or
   * more after the previous one was sent, the row may have been gone in between (a heartbeat less,
   * for the replicas' own timing).
   */
  private void stored(long sentAt) {
    long now = System.nanoTime();
    long previous = lastSentAndStored.getAndAccumulate(sentAt, Math::max);
    if (previous != 0 && now - previous >= LIFETIME.minus(HEARTBEAT).toNanos()) {
      log.info(
          "Instance {}: {} ms between stored heartbeats, its row may have expired; confirming"
              + " that it still owns its rooms",
          self.id(),
          TimeUnit.NANOSECONDS.toMillis(now - previous));
      lapsed.run();
    }
  }

  @Override
  public Instance self() {
    return self;
  }

  /**
   * Whether a listed instance's address refuses connections: a killed instance's row outlives it by
   * up to {@link #LIFETIME}, but the port it listened on is closed at once, so its rooms need not
   * wait for the row to expire. (An instance started again on the same address in the meantime
   * makes the probe inconclusive, and the row decides.)
   */
  @Override
  public CompletionStage<Boolean> refusesConnections(Instance instance) {
    return probe
        .probe(instance.address())
        .thenApply(
            answer -> {
              if (answer != ListeningProbe.Answer.REFUSED) {
                return false;
              }
              log.info(
                  "Instance {} still has a heartbeat row but {} refuses connections: taken as"
                      + " stopped",
                  instance.id(),
                  instance.address());
              return true;
            });
  }

  @Override
  public CompletionStage<List<Instance>> live() {
    return session
        .executeAsync(all.bind())
        .thenApply(
            rs -> {
              List<Instance> live = new ArrayList<>();
              rs.currentPage()
                  .forEach(row -> live.add(new Instance(row.getString(0), row.getString(1))));
              return live;
            });
  }

  /** Stops the heartbeats and deletes this instance's row: its rooms may be claimed at once. */
  @Override
  public void close() {
    if (heartbeats != null) {
      heartbeats.cancel(false);
    }
    try {
      session.execute(delete.bind(self.id()));
    } catch (RuntimeException e) {
      log.warn("Instance {}: row not deleted at stop ({}); it expires", self.id(), e.toString());
    }
  }
}
