package io.watchparty.server.room;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RoomConfigTest {
  @Test
  void builderStartsFromTheDefaultsAndChangesOnlyWhatItIsTold() {
    assertThat(RoomConfig.builder().build()).isEqualTo(RoomConfig.DEFAULTS);

    RoomConfig changed = RoomConfig.builder().outboxCapacity(8).commandBurst(3).build();

    assertThat(changed.outboxCapacity()).isEqualTo(8);
    assertThat(changed.commandBurst()).isEqualTo(3);
    assertThat(changed.toBuilder().outboxCapacity(256).commandBurst(10).build())
        .isEqualTo(RoomConfig.DEFAULTS);
  }

  @Test
  void builderValidatesAsTheConstructorDoes() {
    assertThatThrownBy(() -> RoomConfig.builder().outboxCapacity(1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("watchparty.room.outbox must be at least 2, got 1");
    assertThatThrownBy(() -> RoomConfig.builder().reconnectGrace(Duration.ZERO).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("watchparty.room.grace must be a positive duration, got PT0S");
  }
}
