package io.watchparty.server.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChatTextTest {
  private static final int MAX = 500;

  @Test
  void keepsPlainTextAsItIsAndTrimsTheEdges() {
    assertThat(ChatText.normalize("hello", MAX)).isEqualTo("hello");
    assertThat(ChatText.normalize("  <b>hi</b> & 'bye'\t\n", MAX)).isEqualTo("<b>hi</b> & 'bye'");
    assertThat(ChatText.normalize("שלום עולם", MAX)).isEqualTo("שלום עולם");
    assertThat(ChatText.normalize("family 👨‍👩‍👧 ok", MAX)).isEqualTo("family 👨‍👩‍👧 ok");
    // Plain left-to-right / right-to-left marks are allowed.
    assertThat(ChatText.normalize("a\u200Fb", MAX)).isEqualTo("a\u200Fb");
  }

  @Test
  void composesToNfc() {
    String decomposed = "Cafe\u0301"; // e + combining acute
    assertThat(ChatText.normalize(decomposed, MAX)).isEqualTo("Caf\u00E9");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "   \t\n  ", "\u00A0\u2007", "\u200B", "\u3000", "\uFEFF"})
  void refusesEmptyOrInvisibleText(String text) {
    assertRefused(text, ErrorReason.CHAT_TEXT_EMPTY);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "a\u0000b",
        "line\nbreak",
        "tab\tinside",
        "bell\u0007",
        "del\u007F",
        "c1\u0085x",
        "esc\u001B[31m",
        "sep\u2028x",
        "para\u2029x",
        "rlo\u202Eevil",
        "lre\u202Ax",
        "isolate\u2066x\u2069"
      })
  void refusesControlCharactersAndBidiOverrides(String text) {
    RefusedException refused = assertRefused(text, ErrorReason.CHAT_TEXT_CONTROL_CHARACTERS);
    assertThat(refused.details()).containsKey("code_point");
  }

  @Test
  void countsCodePointsAfterNormalization() {
    assertThat(ChatText.normalize("x".repeat(MAX), MAX)).hasSize(MAX);
    assertThat(ChatText.normalize("😀".repeat(MAX), MAX)).hasSize(2 * MAX); // 500 code points
    // 500 visible characters typed as 1,000 code points compose to 500.
    assertThat(ChatText.normalize("e\u0301".repeat(MAX), MAX)).isEqualTo("\u00E9".repeat(MAX));
    // Whitespace trimmed before counting.
    assertThat(ChatText.normalize("  " + "x".repeat(MAX) + "  ", MAX)).hasSize(MAX);

    RefusedException refused = assertRefused("x".repeat(MAX + 1), ErrorReason.CHAT_TEXT_TOO_LONG);
    assertThat(refused.details()).containsEntry("max_length", "500");
    assertRefused("😀".repeat(MAX + 1), ErrorReason.CHAT_TEXT_TOO_LONG);
    assertRefused("x".repeat(1_000_000), ErrorReason.CHAT_TEXT_TOO_LONG);
  }

  @Test
  void refusesUnpairedSurrogates() {
    assertRefused("half \uD83D of an emoji", ErrorReason.CHAT_TEXT_INVALID_UTF8);
    assertRefused("\uDE00 low first", ErrorReason.CHAT_TEXT_INVALID_UTF8);
  }

  @Test
  void checksClientMessageIds() {
    assertThat(ChatText.clientMessageId("m-1_A")).isEqualTo("m-1_A");
    assertThat(ChatText.clientMessageId("a".repeat(64))).hasSize(64);
    assertThat(refusal(() -> ChatText.clientMessageId("")).reason())
        .isEqualTo(ErrorReason.FIELD_MISSING);
    for (String bad : new String[] {"a".repeat(65), "has space", "dot.ted", "é", "a/b"}) {
      assertThat(refusal(() -> ChatText.clientMessageId(bad)).reason())
          .as(bad)
          .isEqualTo(ErrorReason.MALFORMED_ID);
    }
  }

  private static RefusedException assertRefused(String text, ErrorReason reason) {
    RefusedException refused = refusal(() -> ChatText.normalize(text, MAX));
    assertThat(refused.reason()).as("%s", text.codePoints().boxed().toList()).isEqualTo(reason);
    return refused;
  }

  private static RefusedException refusal(Runnable call) {
    RefusedException refused = catchThrowableOfType(RefusedException.class, call::run);
    assertThat(refused).as("must be refused").isNotNull();
    return refused;
  }
}
