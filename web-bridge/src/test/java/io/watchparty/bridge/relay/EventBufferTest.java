package io.watchparty.bridge.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class EventBufferTest {
  private static Outgoing.Event event(long id) {
    return Outgoing.Event.of(id, "presence", "{\"sequence\":\"" + id + "\"}");
  }

  private static EventBuffer holding(int capacity, long from, long to) {
    EventBuffer buffer = new EventBuffer(capacity);
    for (long id = from; id <= to; id++) {
      buffer.add(event(id));
    }
    return buffer;
  }

  @Test
  void replaysExactlyTheEventsAfterTheLastSeen() {
    EventBuffer buffer = holding(8, 11, 15);
    assertThat(buffer.after(12, 15).orElseThrow())
        .extracting(Outgoing.Event::id)
        .containsExactly(13L, 14L, 15L);
    assertThat(buffer.after(10, 15).orElseThrow())
        .extracting(Outgoing.Event::id)
        .containsExactly(11L, 12L, 13L, 14L, 15L);
  }

  @Test
  void nothingIsMissedWhenTheLastSeenIsTheCurrentSequence() {
    assertThat(holding(8, 11, 15).after(15, 15)).contains(List.of());
    assertThat(new EventBuffer(8).after(7, 7)).contains(List.of());
  }

  @Test
  void aGapOlderThanTheBufferOrAnIdAheadOfTheRoomCannotBeReplayed() {
    EventBuffer buffer = holding(4, 1, 10); // holds 7..10
    assertThat(buffer.after(5, 10)).isEmpty();
    assertThat(buffer.after(6, 10).orElseThrow())
        .extracting(Outgoing.Event::id)
        .containsExactly(7L, 8L, 9L, 10L);
    assertThat(buffer.after(11, 10)).isEmpty();
    assertThat(buffer.after(-1, 10)).isEmpty();
  }

  @Test
  void afterAClearOnlyTheCurrentSequenceIsKnown() {
    EventBuffer buffer = holding(8, 1, 5);
    buffer.clear();
    assertThat(buffer.after(3, 5)).isEmpty();
    assertThat(buffer.after(5, 5)).contains(List.of());
  }

  @Test
  void sequencesMustIncrease() {
    EventBuffer buffer = holding(8, 1, 3);
    assertThatThrownBy(() -> buffer.add(event(3))).hasMessageContaining("not after 3");
  }
}
