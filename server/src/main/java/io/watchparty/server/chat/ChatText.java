package io.watchparty.server.chat;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import java.text.Normalizer;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The rules for what a chat message may say, and its one normalization. The text a member sends is
 * stored and delivered exactly as {@link #normalize} returns it: plain text, which every client
 * shows as text (never as markup).
 *
 * <ol>
 *   <li>Unicode NFC, so that the same words typed on different keyboards are the same string, and
 *       the length below counts what people see rather than how it was typed.
 *   <li>Leading and trailing whitespace removed ({@link String#strip()}, which includes line breaks
 *       and tabs).
 *   <li>Refused as {@code CHAT_TEXT_EMPTY} if nothing visible is left: only whitespace, space
 *       separators (such as U+00A0) or invisible format characters (such as U+200B).
 *   <li>Refused as {@code CHAT_TEXT_CONTROL_CHARACTERS} if it contains a control character
 *       (U+0000..U+001F and U+007F..U+009F, so no line breaks or tabs inside a message), a line or
 *       paragraph separator (U+2028, U+2029), or a bidirectional embedding, override or isolate
 *       (U+202A..U+202E, U+2066..U+2069). Those bidi controls can make one member's message reorder
 *       how the text around it displays (the "Trojan Source" trick); right-to-left languages need
 *       none of them, and the plain marks U+200E/U+200F stay allowed.
 *   <li>Refused as {@code CHAT_TEXT_TOO_LONG} above the maximum length in code points (500 by
 *       default).
 * </ol>
 *
 * <p>Invalid UTF-8 never reaches this class over gRPC: protobuf refuses it while parsing (see
 * {@code rpc.Utf8Guard}, which turns that into {@code CHAT_TEXT_INVALID_UTF8}). A Java string can
 * still hold an unpaired surrogate, which has no UTF-8 encoding, so it is refused with the same
 * reason.
 */
final class ChatText {
  private static final Pattern CLIENT_MESSAGE_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  /**
   * Above this many UTF-16 units the text cannot shrink to the maximum length by NFC composition
   * (which joins at most a few code points into one), so it is refused before normalizing it.
   */
  private static final int UNITS_PER_CODE_POINT_BOUND = 16;

  private ChatText() {}

  /** The text as it will be stored and shown, or a refusal naming the rule it breaks. */
  static String normalize(String raw, int maxLength) {
    if (raw.length() > (long) maxLength * UNITS_PER_CODE_POINT_BOUND) {
      throw tooLong(maxLength, raw.codePointCount(0, raw.length()));
    }
    if (raw.codePoints().anyMatch(c -> Character.getType(c) == Character.SURROGATE)) {
      throw new RefusedException(
          ErrorReason.CHAT_TEXT_INVALID_UTF8,
          "the text contains an unpaired surrogate, which has no UTF-8 encoding",
          Map.of("field", "text"));
    }
    String text = Normalizer.normalize(raw, Normalizer.Form.NFC).strip();
    if (text.codePoints().allMatch(ChatText::invisible)) {
      throw new RefusedException(
          ErrorReason.CHAT_TEXT_EMPTY,
          "the message is empty or only whitespace",
          Map.of("field", "text"));
    }
    int bad = text.codePoints().filter(ChatText::forbidden).findFirst().orElse(-1);
    if (bad >= 0) {
      String codePoint = "U+%04X".formatted(bad);
      throw new RefusedException(
          ErrorReason.CHAT_TEXT_CONTROL_CHARACTERS,
          "the text contains the control character " + codePoint,
          Map.of("field", "text", "code_point", codePoint));
    }
    int length = text.codePointCount(0, text.length());
    if (length > maxLength) {
      throw tooLong(maxLength, length);
    }
    return text;
  }

  /** A client message id: 1..64 of [A-Za-z0-9_-]. */
  static String clientMessageId(String id) {
    if (id.isEmpty()) {
      throw new RefusedException(
          ErrorReason.FIELD_MISSING,
          "client_message_id is required: it makes a retried send safe",
          Map.of("field", "client_message_id"));
    }
    if (!CLIENT_MESSAGE_ID.matcher(id).matches()) {
      throw new RefusedException(
          ErrorReason.MALFORMED_ID,
          "client_message_id must be 1-64 of [A-Za-z0-9_-]",
          Map.of("field", "client_message_id"));
    }
    return id;
  }

  private static boolean invisible(int codePoint) {
    return Character.isWhitespace(codePoint)
        || Character.isSpaceChar(codePoint)
        || Character.getType(codePoint) == Character.FORMAT;
  }

  private static boolean forbidden(int codePoint) {
    int type = Character.getType(codePoint);
    return type == Character.CONTROL
        || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR
        || (codePoint >= 0x202A && codePoint <= 0x202E)
        || (codePoint >= 0x2066 && codePoint <= 0x2069);
  }

  private static RefusedException tooLong(int maxLength, int length) {
    return new RefusedException(
        ErrorReason.CHAT_TEXT_TOO_LONG,
        "the message has " + length + " characters; at most " + maxLength + " are allowed",
        Map.of("field", "text", "max_length", Integer.toString(maxLength)));
  }
}
