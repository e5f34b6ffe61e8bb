package io.watchparty.server.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.metadata.NodeState;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Whether Cassandra can be used now: at least one node of the session is up, as the driver sees it,
 * and the cluster answers a probe query in time.
 *
 * <p>The driver counts a node as down once it has lost every connection to it (a crashed or stopped
 * node, a refused connection). A node that hangs with its connections open (a frozen process, a
 * partition that swallows packets) stays up for the driver until its heartbeat gives up, which
 * takes the heartbeat interval (30 s by default) and more. So a probe, {@code SELECT
 * release_version FROM system.local}, runs with a timeout of {@link #PROBE_TIMEOUT}; its answer
 * stands for {@link #PROBE_EVERY}, so that however often health is asked, Cassandra sees about one
 * probe a second per server. Storage counts as down while the last probe failed or timed out, and
 * while a probe is overdue.
 *
 * <p>Never blocks: the probe runs asynchronously, and its completion only records the answer. Safe
 * on any thread.
 */
public final class StorageHealth {
  /** How long the probe may take before storage counts as down. */
  static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);

  /** How long a probe's answer stands before the next question starts another. */
  static final Duration PROBE_EVERY = Duration.ofSeconds(1);

  private static final SimpleStatement PROBE =
      SimpleStatement.newInstance("SELECT release_version FROM system.local")
          .setTimeout(PROBE_TIMEOUT)
          .setIdempotent(true);

  /** The last probe's outcome and when it came, in {@link #nanos} time. */
  private record Answer(boolean answered, long atNanos) {}

  private final CqlSession session;
  private final LongSupplier nanos;
  private final AtomicBoolean probing = new AtomicBoolean();
  private volatile long probeStartedNanos;
  private volatile Answer last;

  public StorageHealth(CqlSession session) {
    this(session, System::nanoTime);
  }

  StorageHealth(CqlSession session, LongSupplier nanos) {
    this.session = Objects.requireNonNull(session, "session");
    this.nanos = Objects.requireNonNull(nanos, "nanos");
    // Until a probe says otherwise the driver's view stands; the first question probes.
    this.last = new Answer(true, nanos.getAsLong() - PROBE_EVERY.toNanos());
  }

  /** What health reports: the nodes the driver lists up, and whether the cluster answers. */
  public record Reading(long nodesUp, boolean answering) {
    /** True when a node is up and the cluster answers in time. */
    public boolean available() {
      return nodesUp > 0 && answering;
    }
  }

  /** Reads the driver's view and the latest probe's answer, starting a probe if that is stale. */
  public Reading read() {
    long up = nodesUp();
    return new Reading(up, up > 0 && answering());
  }

  /** True when a node is up and the cluster answered the latest probe in time. */
  public boolean available() {
    return read().available();
  }

  /** How many of the session's nodes the driver lists up. */
  public long nodesUp() {
    return session.getMetadata().getNodes().values().stream()
        .filter(n -> n.getState() == NodeState.UP)
        .count();
  }

  /**
   * Whether the cluster answered the latest probe in time and no probe is overdue; starts a probe
   * when the latest answer is older than {@link #PROBE_EVERY}.
   */
  private boolean answering() {
    long now = nanos.getAsLong();
    if (now - last.atNanos() >= PROBE_EVERY.toNanos() && probing.compareAndSet(false, true)) {
      probeStartedNanos = now;
      probe();
    }
    if (probing.get() && now - probeStartedNanos > PROBE_TIMEOUT.toNanos()) {
      return false; // the driver's timeout has not fired yet, but the answer is late all the same
    }
    return last.answered();
  }

  private void probe() {
    try {
      session.executeAsync(PROBE).whenComplete((rows, failure) -> answered(failure == null));
    } catch (RuntimeException e) {
      answered(false);
    }
  }

  /** Records a probe's outcome; on a driver thread, so it only stores it. */
  private void answered(boolean answered) {
    last = new Answer(answered, nanos.getAsLong());
    probing.set(false);
  }

  /** The session's keyspace, or an empty string. */
  public String keyspace() {
    return session.getKeyspace().map(Object::toString).orElse("");
  }
}
