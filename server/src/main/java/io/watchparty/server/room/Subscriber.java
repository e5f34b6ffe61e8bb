package io.watchparty.server.room;

import io.watchparty.server.auth.Identity;
import java.util.HashMap;
import java.util.Map;

/**
 * One open room stream: a member's device, or a relay that fans the room out to viewers of its own
 * (the web bridge). Both receive the same frames; only members have a role.
 */
public final class Subscriber {
  private final Room room;
  private final Identity identity;
  private final StreamSink sink;
  private final boolean relay;

  // Relays only; guarded by the room's lock.
  /** The viewers this relay serves, with how many of their connections (tabs) it serves. */
  final Map<String, Integer> audience = new HashMap<>();

  Subscriber(Room room, Identity identity, StreamSink sink, boolean relay) {
    this.room = room;
    this.identity = identity;
    this.sink = sink;
    this.relay = relay;
  }

  /** The room this stream joined. */
  public Room room() {
    return room;
  }

  public Identity identity() {
    return identity;
  }

  public boolean isRelay() {
    return relay;
  }

  StreamSink sink() {
    return sink;
  }

  /** Frames waiting to be written to this stream. */
  public int backlog() {
    return sink.backlog();
  }

  /** How often this stream fell behind and was resynchronized from a snapshot. */
  public long resyncs() {
    return sink.resyncs();
  }
}
