package io.watchparty.server.chat;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;

/**
 * Where a history page ends: the messages of {@code bucket} older than {@code before}, then the
 * older buckets. Clients see it only as an opaque page token (URL-safe base64 of a version byte,
 * the bucket and the id).
 *
 * @param bucket the start of a history bucket, Unix epoch milliseconds
 * @param before a message id: the page continues with older ones
 */
public record ChatCursor(long bucket, UUID before) {
  private static final byte VERSION = 1;
  private static final int LENGTH = 1 + 8 + 16;

  /** All of a bucket: an id later than any message in it. */
  public static ChatCursor wholeBucket(long bucket, long bucketMillis) {
    return new ChatCursor(bucket, ChatIds.latestAt(bucket + bucketMillis));
  }

  public String encode() {
    ByteBuffer bytes =
        ByteBuffer.allocate(LENGTH)
            .put(VERSION)
            .putLong(bucket)
            .putLong(before.getMostSignificantBits())
            .putLong(before.getLeastSignificantBits());
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.array());
  }

  /** The cursor of a page token; empty for the empty token (the newest page). */
  public static Optional<ChatCursor> decode(String token) {
    if (token.isEmpty()) {
      return Optional.empty();
    }
    try {
      byte[] bytes = Base64.getUrlDecoder().decode(token);
      if (bytes.length == LENGTH && bytes[0] == VERSION) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes, 1, LENGTH - 1);
        long bucket = buffer.getLong();
        UUID before = new UUID(buffer.getLong(), buffer.getLong());
        if (bucket >= 0 && before.version() == 1) {
          return Optional.of(new ChatCursor(bucket, before));
        }
      }
    } catch (IllegalArgumentException malformed) {
      // refused below
    }
    throw new RefusedException(
        ErrorReason.INVALID_PAGE_TOKEN, "page_token is not one this server issued");
  }
}
