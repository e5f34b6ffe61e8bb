package io.watchparty.server.room;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The server instances that share the rooms' storage (a fleet, or one instance): which one this is,
 * and whether another one is alive. A room whose owner is alive is served by that owner; one whose
 * owner stopped answering may be claimed by the instance a client asks.
 */
public interface Instances {
  /** A server instance: its id (unique per start) and where clients reach it (host:port). */
  record Instance(String id, String address) {}

  /** This instance. */
  Instance self();

  /**
   * Whether the instance with this id is alive: its heartbeat is recent, and nothing shows it is
   * gone (its address refusing connections).
   */
  CompletionStage<Boolean> isLive(String instanceId);

  /** The instances alive now (their heartbeat is recent), this one included. */
  CompletionStage<List<Instance>> live();
}
