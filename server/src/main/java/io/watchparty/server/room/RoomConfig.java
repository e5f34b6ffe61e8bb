package io.watchparty.server.room;

import io.watchparty.proto.Backoff;
import io.watchparty.proto.SyncBands;
import java.time.Duration;
import java.util.Objects;

/**
 * Tunables of every room on this server.
 *
 * @param commandLead how far in the future a playback command takes effect, so that every player
 *     applies it at the same instant rather than when its copy happens to arrive; of the order of
 *     the expected delivery time
 * @param eventLogCapacity events kept per room for resuming clients
 * @param outboxCapacity frames queued per stream before the receiver is resynchronized from a
 *     snapshot instead
 * @param reconnectGrace how long a disconnected member keeps their place and role
 * @param presenceDetailLimit up to this many members, joins and leaves are individual events and
 *     snapshots list the members; above it, only throttled counts are sent
 * @param presenceInterval the minimum interval between two presence-count events
 * @param bufferingTimeout how long a waiting room waits for buffering members before playing on
 * @param commandsPerSecond sustained per-user command rate
 * @param commandBurst per-user burst of commands
 * @param syncPolicy how players correct drift; sent in every snapshot
 * @param writeRetry how a room's write that Cassandra failed is retried (default: doubling from 200
 *     ms to 10 s, full jitter)
 * @param writeAttempts how many times a room's write is tried before it fails for good (default 20:
 *     about two minutes of retries); a failure no retry can mend fails at once
 */
public record RoomConfig(
    Duration commandLead,
    int eventLogCapacity,
    int outboxCapacity,
    Duration reconnectGrace,
    int presenceDetailLimit,
    Duration presenceInterval,
    Duration bufferingTimeout,
    double commandsPerSecond,
    int commandBurst,
    SyncBands syncPolicy,
    Backoff writeRetry,
    int writeAttempts) {

  public static final RoomConfig DEFAULTS =
      new RoomConfig(
          Duration.ofMillis(150),
          1024,
          256,
          Duration.ofSeconds(30),
          50,
          Duration.ofSeconds(1),
          Duration.ofSeconds(10),
          5,
          10,
          SyncBands.DEFAULTS,
          Backoff.doubling(Duration.ofMillis(200), Duration.ofSeconds(10)),
          20);

  public RoomConfig {
    Objects.requireNonNull(syncPolicy, "syncPolicy");
    Objects.requireNonNull(writeRetry, "writeRetry");
    if (writeAttempts < 1) {
      throw new IllegalArgumentException("write attempts must be positive, got " + writeAttempts);
    }
    requirePositive("watchparty.room.lead", commandLead);
    requirePositive("watchparty.room.grace", reconnectGrace);
    requirePositive("watchparty.room.presenceinterval", presenceInterval);
    requirePositive("watchparty.room.bufferingtimeout", bufferingTimeout);
    if (eventLogCapacity < 1) {
      throw new IllegalArgumentException(
          "watchparty.room.eventlog must be positive, got " + eventLogCapacity);
    }
    if (outboxCapacity < 2) {
      throw new IllegalArgumentException(
          "watchparty.room.outbox must be at least 2, got " + outboxCapacity);
    }
    if (presenceDetailLimit < 0) {
      throw new IllegalArgumentException(
          "watchparty.room.presencedetail must not be negative, got " + presenceDetailLimit);
    }
    if (!(commandsPerSecond > 0) || commandBurst < 1) {
      throw new IllegalArgumentException(
          "watchparty.room.commandrate and commandburst must be positive, got "
              + commandsPerSecond
              + " and "
              + commandBurst);
    }
  }

  /** A builder starting from {@link #DEFAULTS}. */
  public static Builder builder() {
    return DEFAULTS.toBuilder();
  }

  /** A builder starting from this configuration. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builds a {@link RoomConfig} field by field; {@link #build} validates. */
  public static final class Builder {
    private Duration commandLead;
    private int eventLogCapacity;
    private int outboxCapacity;
    private Duration reconnectGrace;
    private int presenceDetailLimit;
    private Duration presenceInterval;
    private Duration bufferingTimeout;
    private double commandsPerSecond;
    private int commandBurst;
    private SyncBands syncPolicy;
    private Backoff writeRetry;
    private int writeAttempts;

    private Builder(RoomConfig from) {
      commandLead = from.commandLead;
      eventLogCapacity = from.eventLogCapacity;
      outboxCapacity = from.outboxCapacity;
      reconnectGrace = from.reconnectGrace;
      presenceDetailLimit = from.presenceDetailLimit;
      presenceInterval = from.presenceInterval;
      bufferingTimeout = from.bufferingTimeout;
      commandsPerSecond = from.commandsPerSecond;
      commandBurst = from.commandBurst;
      syncPolicy = from.syncPolicy;
      writeRetry = from.writeRetry;
      writeAttempts = from.writeAttempts;
    }

    public Builder commandLead(Duration value) {
      commandLead = value;
      return this;
    }

    public Builder eventLogCapacity(int value) {
      eventLogCapacity = value;
      return this;
    }

    public Builder outboxCapacity(int value) {
      outboxCapacity = value;
      return this;
    }

    public Builder reconnectGrace(Duration value) {
      reconnectGrace = value;
      return this;
    }

    public Builder presenceDetailLimit(int value) {
      presenceDetailLimit = value;
      return this;
    }

    public Builder presenceInterval(Duration value) {
      presenceInterval = value;
      return this;
    }

    public Builder bufferingTimeout(Duration value) {
      bufferingTimeout = value;
      return this;
    }

    public Builder commandsPerSecond(double value) {
      commandsPerSecond = value;
      return this;
    }

    public Builder commandBurst(int value) {
      commandBurst = value;
      return this;
    }

    public Builder syncPolicy(SyncBands value) {
      syncPolicy = value;
      return this;
    }

    public Builder writeRetry(Backoff value, int attempts) {
      writeRetry = value;
      writeAttempts = attempts;
      return this;
    }

    /** The configuration; fails as the constructor does, naming the bad value's key. */
    public RoomConfig build() {
      return new RoomConfig(
          commandLead,
          eventLogCapacity,
          outboxCapacity,
          reconnectGrace,
          presenceDetailLimit,
          presenceInterval,
          bufferingTimeout,
          commandsPerSecond,
          commandBurst,
          syncPolicy,
          writeRetry,
          writeAttempts);
    }
  }

  private static void requirePositive(String key, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(key + " must be a positive duration, got " + value);
    }
  }
}
