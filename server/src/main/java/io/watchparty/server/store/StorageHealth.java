package io.watchparty.server.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.metadata.NodeState;
import java.util.Objects;

/**
 * Whether Cassandra can be used now, as the driver sees it: at least one node of the session is up.
 * A node counts as down once the driver has lost every connection to it (a crashed or stopped node,
 * a refused connection) until it reconnects; a node that hangs with its connections open counts as
 * up until its requests time out and the driver's heartbeat gives up on it.
 *
 * <p>Reads the driver's metadata only: cheap, non-blocking, safe on any thread.
 */
public final class StorageHealth {
  private final CqlSession session;

  public StorageHealth(CqlSession session) {
    this.session = Objects.requireNonNull(session, "session");
  }

  /** True when at least one node is up. */
  public boolean available() {
    return nodesUp() > 0;
  }

  /** How many of the session's nodes are up. */
  public long nodesUp() {
    return session.getMetadata().getNodes().values().stream()
        .filter(n -> n.getState() == NodeState.UP)
        .count();
  }

  /** The session's keyspace, or an empty string. */
  public String keyspace() {
    return session.getKeyspace().map(Object::toString).orElse("");
  }
}
