package io.watchparty.bridge.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OutgoingTest {
  @Test
  void anEventIsFramedOnceAsServerSentEventLines() {
    Outgoing.Event event = Outgoing.Event.of(42, "chat", "{\"text\":\"ciao\"}");
    assertThat(new String(event.wire(), StandardCharsets.UTF_8))
        .isEqualTo("id: 42\nevent: chat\ndata: {\"text\":\"ciao\"}\n\n");
  }

  @Test
  void anEventForOneBrowserHasNoIdSoItsLastEventIdStays() {
    Outgoing.Event event = Outgoing.Event.of(Outgoing.Event.NO_ID, "watchability", "{}");
    assertThat(new String(event.wire(), StandardCharsets.UTF_8))
        .isEqualTo("event: watchability\ndata: {}\n\n");
  }

  @Test
  void dataOnSeveralLinesOrAnOddNameIsRefused() {
    // A line break in data would end the event early: whatever follows would be read as fields.
    assertThatThrownBy(() -> Outgoing.Event.of(1, "chat", "{\n\"id\": 9}"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Outgoing.Event.of(1, "chat\nid: 9", "{}"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
