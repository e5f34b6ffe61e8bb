package io.watchparty.proto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A frame reaches gRPC as a stream it drains in one write, and parses back to the same bytes, read
 * at their announced length.
 */
class ByteArrayMarshallerTest {
  private final ByteArrayMarshaller marshaller = new ByteArrayMarshaller();
  private final byte[] frame = "a serialized ServerMessage".getBytes(StandardCharsets.UTF_8);

  @Test
  void drainsTheFrameInOneWriteWithItsLengthKnown() throws Exception {
    InputStream stream = marshaller.stream(frame);
    assertThat(stream).isInstanceOf(Drainable.class).isInstanceOf(KnownLength.class);
    assertThat(stream.available()).isEqualTo(frame.length);

    var target = new ByteArrayOutputStream();
    assertThat(((Drainable) stream).drainTo(target)).isEqualTo(frame.length);
    assertThat(target.toByteArray()).isEqualTo(frame);
    assertThat(stream.available()).as("nothing is left to read").isZero();
  }

  @Test
  void parsesWhatItStreams() {
    assertThat(marshaller.parse(marshaller.stream(frame))).isEqualTo(frame);
  }

  @Test
  void parsesAStreamOfUnknownLength() {
    InputStream unknownLength =
        new java.io.SequenceInputStream(
            new ByteArrayInputStream(frame, 0, 5),
            new ByteArrayInputStream(frame, 5, frame.length - 5));
    assertThat(marshaller.parse(unknownLength)).isEqualTo(frame);
  }

  @Test
  void refusesAStreamShorterThanItsAnnouncedLength() {
    InputStream lying = new KnownLengthStream(frame, frame.length + 3);
    assertThatThrownBy(() -> marshaller.parse(lying))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("not " + (frame.length + 3) + " bytes long");
  }

  /** A known-length stream whose {@code available()} announces more than it holds. */
  private static final class KnownLengthStream extends ByteArrayInputStream implements KnownLength {
    private final int announced;

    KnownLengthStream(byte[] bytes, int announced) {
      super(bytes);
      this.announced = announced;
    }

    @Override
    public synchronized int available() {
      return announced - pos;
    }
  }
}
