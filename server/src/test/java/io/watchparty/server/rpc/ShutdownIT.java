package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status.Code;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A stopping server ends its room streams at once, in a way clients know to reconnect from. Alone
 * on its keyspace, as here, it has nobody to hand its rooms to (RoomOwnershipIT has the handover).
 */
class ShutdownIT {
  @RegisterExtension static final TestServer stopping = TestServer.builder().build();

  @Test
  void stoppingEndsEveryRoomStreamWithUnavailableAndTheShutdownReason() {
    String roomId = stopping.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    String otherRoom = stopping.createRoom("bob", Visibility.PUBLIC).getRoom().getRoomId();
    List<StreamProbe> streams =
        List.of(
            stopping.connect("alice").join(roomId),
            stopping.connect("chiara").join(roomId),
            stopping.connect("bob").join(otherRoom));
    streams.forEach(StreamProbe::snapshot);

    stopping.server().close();

    for (StreamProbe stream : streams) {
      assertThat(
              stream.awaitRefusal(Code.UNAVAILABLE, ErrorReason.SERVER_SHUTTING_DOWN).getDomain())
          .isEqualTo(ErrorMapper.DOMAIN);
    }
  }
}
