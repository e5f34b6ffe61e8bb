package io.watchparty.server.room;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.InstantSource;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PartyMembershipTest {
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private final UUID roomId = UUID.randomUUID();
  private final PartyMembership party =
      new PartyMembership(
          roomId,
          new RoomWriter(
              roomId,
              new RoomFixture.MapStore(),
              1,
              0,
              InstantSource.system(),
              new RoomTimers(scheduler, Runnable::run),
              Runnable::run,
              RoomConfig.DEFAULTS,
              owner -> {}),
          InstantSource.system(),
          (room, userId) -> CompletableFuture.completedFuture(false));

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  @Test
  void keepsTheNewestDecisionsAndLeavesTheOlderOnesToStorage() {
    int users = PartyMembership.REMEMBERED_DECISIONS + 5;
    for (int i = 0; i < users; i++) {
      party.joined("user-" + i);
    }
    party.left("user-5"); // decided again: now the newest

    assertThat(party.remembered()).isEqualTo(PartyMembership.REMEMBERED_DECISIONS);
    assertThat(party.decided("user-0")).as("the oldest, forgotten").isEmpty();
    assertThat(party.decided("user-5")).hasValue(false);
    assertThat(party.decided("user-6")).as("still among the newest").hasValue(true);
    assertThat(party.decided("user-" + (users - 1))).hasValue(true);
  }
}
