package io.watchparty.bridge;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Call credentials that send {@code authorization: Bearer <token>}: a browser user's own token for
 * the calls the bridge makes for them, or the bridge's relay token for its relay streams.
 */
final class BearerToken extends CallCredentials {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Supplier<String> token;

  private BearerToken(Supplier<String> token) {
    this.token = token;
  }

  /** A fixed token. */
  static BearerToken of(String token) {
    Objects.requireNonNull(token, "token");
    return new BearerToken(() -> token);
  }

  /** A token read at each call, for one that is renewed while the bridge runs. */
  static BearerToken current(Supplier<String> token) {
    return new BearerToken(token);
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + token.get());
    applier.apply(headers);
  }

  @Override
  public String toString() {
    return "BearerToken[redacted]";
  }
}
