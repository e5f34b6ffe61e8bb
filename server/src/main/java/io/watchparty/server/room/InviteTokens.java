package io.watchparty.server.room;

import java.security.SecureRandom;
import java.util.Base64;

/** Unguessable invite tokens: 128 random bits, URL-safe base64 (22 characters). */
final class InviteTokens {
  static final int BYTES = 16;

  private final SecureRandom random = new SecureRandom();

  String next() {
    byte[] bytes = new byte[BYTES];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
