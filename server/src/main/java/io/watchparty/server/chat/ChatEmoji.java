package io.watchparty.server.chat;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import java.util.List;
import java.util.Map;

/**
 * The reactions a member can send: a fixed set, so that a reaction is cheap to count and to show,
 * and carries no free text.
 *
 * <p>👍 👎 ❤️ 😂 😮 😢 👏 🔥 🎉 🍿 — the heart is U+2764 U+FE0F; a bare U+2764 is accepted and
 * counted as the same heart.
 */
final class ChatEmoji {
  /** The allowed reactions, in the order a client may show them. */
  static final List<String> ALLOWED =
      List.of(
          "\uD83D\uDC4D", // 👍 U+1F44D
          "\uD83D\uDC4E", // 👎 U+1F44E
          "\u2764\uFE0F", // ❤️ U+2764 U+FE0F
          "\uD83D\uDE02", // 😂 U+1F602
          "\uD83D\uDE2E", // 😮 U+1F62E
          "\uD83D\uDE22", // 😢 U+1F622
          "\uD83D\uDC4F", // 👏 U+1F44F
          "\uD83D\uDD25", // 🔥 U+1F525
          "\uD83C\uDF89", // 🎉 U+1F389
          "\uD83C\uDF7F"); // 🍿 U+1F37F

  private static final Map<String, String> ALIASES = Map.of("\u2764", "\u2764\uFE0F");

  private ChatEmoji() {}

  /**
   * The emoji as it is counted and published; UNKNOWN_EMOJI if it is not one of {@link #ALLOWED}.
   */
  static String canonical(String emoji) {
    String canonical = ALIASES.getOrDefault(emoji, emoji);
    if (!ALLOWED.contains(canonical)) {
      throw new RefusedException(
          ErrorReason.UNKNOWN_EMOJI,
          emoji.isEmpty()
              ? "the reaction has no emoji"
              : "'" + emoji + "' is not one of the reactions " + String.join(" ", ALLOWED),
          Map.of("allowed", String.join(" ", ALLOWED)));
    }
    return canonical;
  }
}
