package io.watchparty.server.room;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The server instances that share the rooms' storage (a fleet, or one instance): which one this is,
 * and which are alive. A room whose owner is alive is served by that owner; one whose owner is not
 * is claimed by the live instance rendezvous hashing picks ({@link RoomRegistry}).
 */
public interface Instances {
  /** A server instance: its id (unique per start) and where clients reach it (host:port). */
  record Instance(String id, String address) {}

  /** This instance. */
  Instance self();

  /** The instances whose heartbeat is recent, this one included. */
  CompletionStage<List<Instance>> live();

  /**
   * Whether an instance with a recent heartbeat is gone nonetheless: its address refuses
   * connections (a killed process's port closes at once; its heartbeat is recent a while longer).
   */
  CompletionStage<Boolean> refusesConnections(Instance instance);
}
