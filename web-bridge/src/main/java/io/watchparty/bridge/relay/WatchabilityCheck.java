package io.watchparty.bridge.relay;

import io.watchparty.proto.v1.Watchability;
import java.util.Optional;

/**
 * Whether a browser user may watch a title, asked under their own token (the relay's account may
 * watch everything, so the server's per-member notices do not reach relayed viewers). Called on a
 * browser's writer thread: it may block.
 */
public interface WatchabilityCheck {
  /** The answer, or empty when the server could not be asked (the caller keeps what it knew). */
  Optional<Watchability> check(Viewer viewer, String titleId);

  /**
   * The server said that a licence window opened or closed for a viewer ({@code notice.user_id}):
   * an answer kept for their region is out of date from now on.
   */
  default void pushed(Watchability notice) {}
}
