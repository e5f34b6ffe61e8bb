package io.watchparty.server.rpc;

import io.watchparty.server.room.RoomConfig;
import io.watchparty.server.room.SyncPolicy;
import java.time.Duration;

/**
 * Room tunables for tests: generous defaults (a long reconnect grace, a command rate no test
 * reaches) that each test narrows to the rule it checks.
 */
public final class RoomConfigs {
  private Duration lead = Duration.ofMillis(150);
  private int eventLog = 1024;
  private int outbox = 256;
  private Duration grace = Duration.ofSeconds(30);
  private int presenceDetail = 50;
  private Duration presenceInterval = Duration.ofMillis(100);
  private Duration bufferingTimeout = Duration.ofSeconds(10);
  private double commandsPerSecond = 10_000;
  private int commandBurst = 10_000;

  private RoomConfigs() {}

  public static RoomConfigs rooms() {
    return new RoomConfigs();
  }

  public RoomConfigs lead(Duration value) {
    lead = value;
    return this;
  }

  public RoomConfigs eventLog(int value) {
    eventLog = value;
    return this;
  }

  public RoomConfigs outbox(int value) {
    outbox = value;
    return this;
  }

  public RoomConfigs grace(Duration value) {
    grace = value;
    return this;
  }

  public RoomConfigs presenceDetail(int value) {
    presenceDetail = value;
    return this;
  }

  public RoomConfigs presenceInterval(Duration value) {
    presenceInterval = value;
    return this;
  }

  public RoomConfigs bufferingTimeout(Duration value) {
    bufferingTimeout = value;
    return this;
  }

  public RoomConfigs commandRate(double perSecond, int burst) {
    commandsPerSecond = perSecond;
    commandBurst = burst;
    return this;
  }

  public RoomConfig build() {
    return new RoomConfig(
        lead,
        eventLog,
        outbox,
        grace,
        presenceDetail,
        presenceInterval,
        bufferingTimeout,
        commandsPerSecond,
        commandBurst,
        SyncPolicy.DEFAULTS);
  }
}
