package io.watchparty.server.chat;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.uuid.Uuids;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ChatIdsTest {
  private static final long T = 1_750_000_000_123L;

  @Test
  void idsAreTimeBasedAndCarryTheirMillisecond() {
    UUID id = new ChatIds().next(T);
    assertThat(id.version()).isEqualTo(1);
    assertThat(id.variant()).isEqualTo(2);
    assertThat(ChatIds.millis(id)).isEqualTo(T);
    assertThat(Uuids.unixTimestamp(id)).isEqualTo(T);
    assertThat(ChatIds.micros(id)).isEqualTo(T * 1000);
  }

  @Test
  void idsIncreaseEvenWhenTheClockStandsStillOrStepsBack() {
    ChatIds ids = new ChatIds();
    List<UUID> made = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      made.add(ids.next(T));
    }
    made.add(ids.next(T - 5_000));
    for (int i = 1; i < made.size(); i++) {
      assertThat(made.get(i).timestamp()).isGreaterThan(made.get(i - 1).timestamp());
    }
    assertThat(ChatIds.millis(made.getLast())).isEqualTo(T);
  }

  @Test
  void idsFollowAGivenIdFromAnotherGenerator() {
    UUID earlier = new ChatIds().next(T + 10);
    UUID next = new ChatIds().next(T, java.util.Optional.of(earlier));
    assertThat(next.timestamp()).isGreaterThan(earlier.timestamp());
  }

  @Test
  void twoGeneratorsNeverCollide() {
    assertThat(new ChatIds().next(T)).isNotEqualTo(new ChatIds().next(T));
  }

  @Test
  void parsesOnlyCanonicalTimeBasedIds() {
    UUID id = new ChatIds().next(T);
    assertThat(ChatIds.parse(id.toString())).contains(id);
    assertThat(ChatIds.parse(id.toString().toUpperCase())).isEmpty();
    assertThat(ChatIds.parse(UUID.randomUUID().toString())).isEmpty();
    assertThat(ChatIds.parse("not-a-uuid")).isEmpty();
    assertThat(ChatIds.parse("")).isEmpty();
  }

  @Test
  void theLatestIdOfAMillisecondIsTheDriversEndOfIt() {
    for (long millis : new long[] {0, 1_796_599_122_915L, 1_796_599_122_000L, 4_102_444_800_000L}) {
      assertThat(ChatIds.latestAt(millis)).isEqualTo(Uuids.endOf(millis));
      assertThat(ChatIds.millis(ChatIds.latestAt(millis))).isEqualTo(millis);
    }
  }
}
