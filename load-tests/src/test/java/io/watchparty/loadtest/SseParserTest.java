package io.watchparty.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseParserTest {
  private final List<String> seen = new ArrayList<>();
  private final SseParser parser =
      new SseParser((id, type, data) -> seen.add(id + "|" + type + "|" + data));

  @Test
  void dispatchesEventsWithTheirIdTypeAndDataAtBlankLinesAndSkipsComments() {
    feed(
        "retry: 2000\n\nid: 41\nevent: snapshot\ndata: {\"sequence\":\"41\"}\n\n"
            + ": keep-alive\n\nid: 42\nevent: playback_changed\ndata: {}\n\n");

    assertThat(seen).containsExactly("41|snapshot|{\"sequence\":\"41\"}", "42|playback_changed|{}");
  }

  @Test
  void acceptsCrLfAndLoneCrLineEndsAndBytesSplitAnywhere() {
    String stream = "id: 7\r\nevent: chat\rdata: a\r\ndata:b\r\n\r\nid:8\ndata: c\n\n";
    byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);

    for (byte b : bytes) {
      parser.feed(ByteBuffer.wrap(new byte[] {b}));
    }

    assertThat(seen).containsExactly("7|chat|a\nb", "8|message|c");
  }

  @Test
  void givesOnlyAnEventsOwnIdAndSkipsEventsWithoutData() {
    feed("id: 5\nevent: presence\n\nevent: ended\ndata: {\"reason\":\"KICKED\"}\n\n");

    assertThat(seen).containsExactly("|ended|{\"reason\":\"KICKED\"}");
  }

  @Test
  void keepsAtMostTheDataCapAndIgnoresUnknownLongFieldNames() {
    String big = "x".repeat(3 * SseParser.DATA_KEPT);
    feed("averyveryverylongfield: ignored\nid: 9\ndata: " + big + "\n\n");

    assertThat(seen).containsExactly("9|message|" + "x".repeat(SseParser.DATA_KEPT));
  }

  @Test
  void decodesUtf8Data() {
    feed("data: 🍿 é\n\n");

    assertThat(seen).containsExactly("|message|🍿 é");
  }

  private void feed(String text) {
    parser.feed(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
  }
}
