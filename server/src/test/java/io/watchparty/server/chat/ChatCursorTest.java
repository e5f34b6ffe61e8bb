package io.watchparty.server.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import java.util.Base64;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ChatCursorTest {
  @Test
  void tokensRoundTripAndAreUrlSafe() {
    var cursor = new ChatCursor(1_750_000_020_000L, new ChatIds().next(1_750_000_031_000L));
    String token = cursor.encode();
    assertThat(token).matches("[A-Za-z0-9_-]+");
    assertThat(ChatCursor.decode(token)).contains(cursor);
    assertThat(ChatCursor.decode("")).isEmpty();
  }

  @Test
  void aWholeBucketStartsAfterItsLastPossibleMessage() {
    long bucket = 1_750_000_020_000L;
    var whole = ChatCursor.wholeBucket(bucket, 60_000);
    UUID last = new ChatIds().next(bucket + 59_999);
    assertThat(whole.before().timestamp()).isGreaterThan(last.timestamp());
  }

  @Test
  void refusesTokensItDidNotIssue() {
    String random = Base64.getUrlEncoder().encodeToString(new byte[25]);
    for (String bad : new String[] {"x", "!!!", random, "AQ", UUID.randomUUID().toString()}) {
      RefusedException refused =
          catchThrowableOfType(RefusedException.class, () -> ChatCursor.decode(bad));
      assertThat(refused).as(bad).isNotNull();
      assertThat(refused.reason()).isEqualTo(ErrorReason.INVALID_PAGE_TOKEN);
    }
  }
}
