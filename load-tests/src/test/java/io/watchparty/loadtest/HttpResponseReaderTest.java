package io.watchparty.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HttpResponseReaderTest {
  private final List<String> seen = new ArrayList<>();
  private final StringBuilder body = new StringBuilder();
  private final HttpResponseReader reader =
      new HttpResponseReader(
          new HttpResponseReader.Handler() {
            @Override
            public void onHead(int status, boolean keepAlive) {
              seen.add("head " + status + (keepAlive ? " keep-alive" : " close"));
            }

            @Override
            public void onBody(ByteBuffer bytes) {
              body.append(StandardCharsets.UTF_8.decode(bytes));
            }

            @Override
            public void onEnd() {
              seen.add("end " + body);
              body.setLength(0);
            }
          });

  @Test
  void readsAContentLengthBodyAndLeavesTheNextResponsesBytes() {
    ByteBuffer bytes =
        bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: x\r\n\r\n{\"a\"}HTTP/1.1 ");

    reader.feed(bytes);

    assertThat(seen).containsExactly("head 200 keep-alive", "end {\"a\"}");
    assertThat(StandardCharsets.US_ASCII.decode(bytes).toString()).isEqualTo("HTTP/1.1 ");
  }

  @Test
  void decodesChunksSplitAcrossReadsAndReadsTheNextResponseAfterReset() {
    String chunked =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "6;ext=1\r\nid: 1\n\r\n5\r\ndata:\r\n0\r\n\r\n";
    for (byte b : chunked.getBytes(StandardCharsets.US_ASCII)) {
      reader.feed(ByteBuffer.wrap(new byte[] {b}));
    }
    reader.reset();
    reader.feed(bytes("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"));

    assertThat(seen)
        .containsExactly("head 200 keep-alive", "end id: 1\ndata:", "head 204 close", "end ");
  }

  @Test
  void aBodyWithoutFramingEndsWithTheConnection() {
    reader.feed(bytes("HTTP/1.0 503 Service Unavailable\r\n\r\n{\"error\":"));
    reader.feed(bytes("\"TOO_MANY_STREAMS\"}"));

    assertThat(reader.closedAtEnd()).isTrue();
    assertThat(seen).containsExactly("head 503 close", "end {\"error\":\"TOO_MANY_STREAMS\"}");
  }

  @Test
  void rejectsWhatIsNotHttp() {
    assertThatThrownBy(() -> reader.feed(bytes("SSH-2.0-OpenSSH\r\n")))
        .isInstanceOf(HttpResponseReader.MalformedResponseException.class)
        .hasMessageContaining("SSH-2.0");
  }

  private static ByteBuffer bytes(String text) {
    return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
  }
}
