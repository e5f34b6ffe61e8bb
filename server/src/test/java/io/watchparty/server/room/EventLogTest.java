package io.watchparty.server.room;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EventLogTest {
  private static byte[] frame(long sequence) {
    return ("event-" + sequence).getBytes(StandardCharsets.UTF_8);
  }

  private static EventLog logWith(int capacity, long lastBefore, long upTo) {
    EventLog log = new EventLog(capacity, lastBefore);
    for (long s = lastBefore + 1; s <= upTo; s++) {
      log.append(s, frame(s));
    }
    return log;
  }

  /** The frames after {@code seen} as text, or empty if the client needs a snapshot. */
  private static Optional<List<String>> after(EventLog log, long seen) {
    return log.after(seen)
        .map(frames -> frames.stream().map(f -> new String(f, StandardCharsets.UTF_8)).toList());
  }

  @Test
  void returnsExactlyTheMissedFramesInOrder() {
    EventLog log = logWith(8, 0, 5);

    assertThat(after(log, 2)).contains(List.of("event-3", "event-4", "event-5"));
    assertThat(after(log, 0))
        .contains(List.of("event-1", "event-2", "event-3", "event-4", "event-5"));
    assertThat(log.lastSequence()).isEqualTo(5);
  }

  @Test
  void nothingMissedIsAnEmptyList() {
    assertThat(after(logWith(8, 0, 5), 5)).contains(List.of());
    assertThat(after(new EventLog(8, 0), 0)).contains(List.of());
  }

  @Test
  void aSequenceNotYetIssuedNeedsASnapshot() {
    EventLog log = logWith(8, 0, 5);

    assertThat(log.after(6)).isEmpty();
    assertThat(log.after(Long.MAX_VALUE)).isEmpty();
  }

  @Test
  void aNegativeSequenceNeedsASnapshot() {
    assertThat(logWith(8, 0, 5).after(-1)).isEmpty();
  }

  @Test
  void aGapOlderThanTheCapacityNeedsASnapshot() {
    EventLog log = logWith(4, 0, 10); // holds 7..10

    assertThat(after(log, 6)).contains(List.of("event-7", "event-8", "event-9", "event-10"));
    assertThat(log.after(5)).isEmpty();
    assertThat(log.after(0)).isEmpty();
  }

  @Test
  void wrapsAroundManyTimesKeepingTheNewestFrames() {
    EventLog log = logWith(3, 0, 1_000);

    assertThat(after(log, 997)).contains(List.of("event-998", "event-999", "event-1000"));
    assertThat(after(log, 999)).contains(List.of("event-1000"));
    assertThat(log.after(996)).isEmpty();
  }

  @Test
  void aLogCreatedAfterARestartReplaysNothingFromBeforeIt() {
    EventLog log = new EventLog(8, 100);

    assertThat(log.lastSequence()).isEqualTo(100);
    assertThat(after(log, 100)).contains(List.of());
    assertThat(log.after(99)).isEmpty();

    log.append(101, frame(101));
    log.append(102, frame(102));

    assertThat(after(log, 100)).contains(List.of("event-101", "event-102"));
    assertThat(after(log, 101)).contains(List.of("event-102"));
    assertThat(log.after(99)).isEmpty();
    assertThat(log.after(95)).isEmpty();
  }

  @Test
  void appendWithAWrongSequenceIsRefusedAndChangesNothing() {
    EventLog log = logWith(8, 0, 5);

    assertThatThrownBy(() -> log.append(7, frame(7)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("expected sequence 6, got 7");
    assertThatThrownBy(() -> log.append(5, frame(5)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("expected sequence 6, got 5");
    assertThatThrownBy(() -> new EventLog(4, 100).append(1, frame(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("expected sequence 101, got 1");

    assertThat(log.lastSequence()).isEqualTo(5);
    assertThat(after(log, 4)).contains(List.of("event-5"));
  }

  @Test
  void capacityMustBePositive() {
    assertThatThrownBy(() -> new EventLog(0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("event log capacity must be positive, got 0");
  }
}
