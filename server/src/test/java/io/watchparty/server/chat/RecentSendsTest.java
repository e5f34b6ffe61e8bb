package io.watchparty.server.chat;

import static org.assertj.core.api.Assertions.assertThat;

import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.server.chat.RecentSends.Key;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The room's memory of settled sends: what it answers, and when it must say it may have forgotten.
 */
class RecentSendsTest {
  private static final Duration WINDOW = Duration.ofSeconds(120);

  @Test
  void aCreatedRoomKnowsEverySendUntilItsMemoryOverflows() {
    RecentSends sends = new RecentSends(WINDOW, 3, Long.MIN_VALUE);
    assertThat(sends.mayHaveForgotten(0)).isFalse();

    for (int i = 0; i < 3; i++) {
      sends.acknowledge(key(i), message(i), 1_000 + i);
    }
    assertThat(sends.acknowledged(key(0))).contains(message(0));
    assertThat(sends.mayHaveForgotten(1_003)).isFalse();

    // A fourth send pushes out the first, still inside its window: until that window ends, a send
    // the memory does not know may be a retry of it.
    sends.acknowledge(key(3), message(3), 1_010);
    assertThat(sends.size()).isEqualTo(3);
    assertThat(sends.acknowledged(key(0))).isEmpty();
    assertThat(sends.mayHaveForgotten(1_010)).isTrue();
    assertThat(sends.mayHaveForgotten(1_000 + WINDOW.toMillis() - 1)).isTrue();
    assertThat(sends.mayHaveForgotten(1_000 + WINDOW.toMillis())).isFalse();
  }

  @Test
  void sendsOlderThanTheWindowAreDroppedWithoutLeavingAGap() {
    RecentSends sends = new RecentSends(WINDOW, 3, Long.MIN_VALUE);
    sends.acknowledge(key(0), message(0), 0);
    sends.acknowledge(key(1), message(1), 10);
    sends.acknowledge(key(2), message(2), WINDOW.toMillis() + 5);

    assertThat(sends.acknowledged(key(0))).isEmpty();
    assertThat(sends.acknowledged(key(1))).contains(message(1));
    assertThat(sends.size()).isEqualTo(2);
    assertThat(sends.mayHaveForgotten(WINDOW.toMillis() + 5)).isFalse();
  }

  @Test
  void aLoadedRoomMayHaveForgottenSendsForOneWindow() {
    long loadedAt = 50_000;
    RecentSends sends = new RecentSends(WINDOW, 100, loadedAt + WINDOW.toMillis());
    assertThat(sends.mayHaveForgotten(loadedAt)).isTrue();
    assertThat(sends.mayHaveForgotten(loadedAt + WINDOW.toMillis())).isFalse();
  }

  @Test
  void aFailureIsRememberedUntilTheRetryIsAcknowledged() {
    RecentSends sends = new RecentSends(WINDOW, 100, Long.MIN_VALUE);
    sends.fail(key(1), 100);
    assertThat(sends.failed(key(1))).isTrue();
    assertThat(sends.acknowledged(key(1))).isEmpty();

    sends.acknowledge(key(1), message(1), 200);
    assertThat(sends.failed(key(1))).isFalse();
    assertThat(sends.acknowledged(key(1))).contains(message(1));
    assertThat(sends.size()).isEqualTo(1);
  }

  @Test
  void aDeletedMessageIsAnsweredWithoutItsText() {
    RecentSends sends = new RecentSends(WINDOW, 100, Long.MIN_VALUE);
    sends.acknowledge(key(1), message(1), 0);
    sends.acknowledge(key(2), message(2), 1);

    sends.deleted(message(1).getMessageId());

    assertThat(sends.acknowledged(key(1))).contains(message(1).toBuilder().setText("").build());
    assertThat(sends.acknowledged(key(2))).contains(message(2));
  }

  private static Key key(int i) {
    return new Key("alice", "c-" + i);
  }

  private static ChatMessage message(int i) {
    return ChatMessage.newBuilder()
        .setMessageId("m-" + i)
        .setUserId("alice")
        .setText("t" + i)
        .build();
  }
}
