package io.watchparty.client;

import java.util.Objects;

/**
 * A request the server refused, or one the connection could not carry; the futures of {@link
 * WatchPartyClient} and {@link RoomConnection} complete exceptionally with it. Immutable after
 * construction: safe to share between threads.
 */
public final class WatchPartyException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The refusal, kept whole; not serialized with the exception. */
  private final transient Refusal refusal;

  /** An exception for {@code refusal}; its message is the refusal's one-line description. */
  public WatchPartyException(Refusal refusal) {
    super(Objects.requireNonNull(refusal, "refusal").toString());
    this.refusal = refusal;
  }

  /** What the server (or the library) said: code, reason, message, metadata. */
  public Refusal refusal() {
    return refusal;
  }
}
