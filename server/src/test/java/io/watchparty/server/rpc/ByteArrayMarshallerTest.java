package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A frame reaches gRPC as a stream it drains in one write, and parses back to the same bytes. */
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
}
