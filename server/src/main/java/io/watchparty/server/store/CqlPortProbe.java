package io.watchparty.server.store;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;

/**
 * Tells whether a TCP port is free, answered by Cassandra, or taken by something else, by sending
 * the CQL protocol's OPTIONS request.
 */
final class CqlPortProbe {

  /** What listens on a port. */
  enum PortState {
    /** Nothing: the connection was refused. */
    FREE,
    /** A Cassandra node: it answered OPTIONS with SUPPORTED. */
    CASSANDRA,
    /** Something that accepts connections but does not speak CQL. */
    OTHER
  }

  // A protocol v4 request frame: version, flags, stream id (2 bytes), opcode OPTIONS, empty body.
  private static final byte[] OPTIONS = {0x04, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00};
  private static final int RESPONSE_V4 = 0x84;
  private static final int OPCODE_SUPPORTED = 0x06;
  private static final int HEADER_LENGTH = 9;

  private CqlPortProbe() {}

  static PortState probe(InetSocketAddress address, Duration timeout) {
    int millis = Math.toIntExact(timeout.toMillis());
    try (Socket socket = new Socket()) {
      try {
        socket.connect(address, millis);
      } catch (ConnectException e) {
        return PortState.FREE;
      }
      socket.setSoTimeout(millis);
      socket.getOutputStream().write(OPTIONS);
      socket.getOutputStream().flush();
      byte[] header = readHeader(socket.getInputStream());
      boolean supported =
          header.length == HEADER_LENGTH
              && (header[0] & 0xff) == RESPONSE_V4
              && header[4] == OPCODE_SUPPORTED;
      return supported ? PortState.CASSANDRA : PortState.OTHER;
    } catch (IOException e) {
      // Accepted the connection but then timed out, reset it or closed it: not a CQL server.
      return PortState.OTHER;
    }
  }

  private static byte[] readHeader(InputStream in) throws IOException {
    return in.readNBytes(HEADER_LENGTH);
  }
}
