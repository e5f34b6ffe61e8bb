package io.watchparty.server.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import org.junit.jupiter.api.Test;

class ChatEmojiTest {
  @Test
  void acceptsTheDocumentedSetAndTheBareHeart() {
    assertThat(ChatEmoji.ALLOWED).hasSize(10).doesNotHaveDuplicates();
    ChatEmoji.ALLOWED.forEach(e -> assertThat(ChatEmoji.canonical(e)).isEqualTo(e));
    assertThat(ChatEmoji.canonical("\u2764")).isEqualTo("\u2764\uFE0F");
  }

  @Test
  void refusesEverythingElse() {
    for (String bad : new String[] {"", "x", "👍👍", "👍🏽", ":+1:", "🦄", " 🔥"}) {
      RefusedException refused =
          catchThrowableOfType(RefusedException.class, () -> ChatEmoji.canonical(bad));
      assertThat(refused).as(bad).isNotNull();
      assertThat(refused.reason()).isEqualTo(ErrorReason.UNKNOWN_EMOJI);
    }
  }
}
