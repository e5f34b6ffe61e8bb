package io.watchparty.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.watchparty.server.store.CqlPortProbe.PortState;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CqlPortProbeTest {

  private static final Duration TIMEOUT = Duration.ofMillis(500);

  private final ExecutorService servers = Executors.newVirtualThreadPerTaskExecutor();
  private ServerSocket server;

  @AfterEach
  void closeServer() throws IOException {
    if (server != null) {
      server.close();
    }
    servers.shutdownNow();
  }

  @Test
  void findsAPortWithNothingListeningFree() throws IOException {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }

    assertThat(CqlPortProbe.probe(new InetSocketAddress("127.0.0.1", port), TIMEOUT))
        .isEqualTo(PortState.FREE);
  }

  @Test
  void recognizesAServerThatAnswersOptionsWithSupported() throws IOException {
    InetSocketAddress address =
        serve(
            // Response v4, no flags, stream 0, opcode SUPPORTED, empty body.
            new byte[] {(byte) 0x84, 0, 0, 0, 0x06, 0, 0, 0, 0});

    assertThat(CqlPortProbe.probe(address, TIMEOUT)).isEqualTo(PortState.CASSANDRA);
  }

  @Test
  void findsAServerThatSpeaksGarbageTaken() throws IOException {
    InetSocketAddress address =
        serve("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));

    assertThat(CqlPortProbe.probe(address, TIMEOUT)).isEqualTo(PortState.OTHER);
  }

  @Test
  void findsAServerThatClosesAtOnceTaken() throws IOException {
    InetSocketAddress address = serve(new byte[0]);

    assertThat(CqlPortProbe.probe(address, TIMEOUT)).isEqualTo(PortState.OTHER);
  }

  @Test
  void findsASilentServerTaken() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    // Accepts into the backlog and never answers.

    assertThat(
            CqlPortProbe.probe(
                new InetSocketAddress("127.0.0.1", server.getLocalPort()), Duration.ofMillis(200)))
        .isEqualTo(PortState.OTHER);
  }

  /** A server that reads the request, writes {@code answer} and closes the connection. */
  private InetSocketAddress serve(byte[] answer) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    ServerSocket listening = server;
    servers.submit(
        () -> {
          try (Socket socket = listening.accept()) {
            InputStream in = socket.getInputStream();
            in.readNBytes(9);
            socket.getOutputStream().write(answer);
            socket.getOutputStream().flush();
          }
          return null;
        });
    return new InetSocketAddress("127.0.0.1", server.getLocalPort());
  }
}
