package io.watchparty.server.room;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The rooms' server-side fan-out times: one sample per event that reached at least one stream,
 * taken once the last stream's frame of it was handed to the transport or dropped (a stalled
 * stream's backlog gives way to a snapshot), on gRPC's own executors as on Netty; and what the
 * observe port serves of them. Values are checked for consistency only, never against a time limit.
 */
class FanOutTimesIT {
  static final int OUTBOX = 4;
  static final int COMMANDS = 30;
  static final List<String> READERS = List.of("alice", "bob", "chiara", "emma");

  // One server per test: its histogram holds only that test's events.
  @RegisterExtension
  final TestServer wp =
      TestServer.builder().rooms(r -> r.outboxCapacity(OUTBOX)).realExecutors().build();

  @Test
  void everyEventFannedOutIsOneSampleOnceTheLastStreamHasItStalledStreamsIncluded()
      throws Exception {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    List<StreamProbe> readers = new ArrayList<>();
    for (String user : READERS) {
      StreamProbe reader = wp.connect(user).join(roomId);
      reader.snapshot();
      readers.add(reader);
    }
    StreamProbe stalled = wp.connectStalled("farid").join(roomId);
    stalled.snapshot(); // the one message it asked for; it never reads again
    FanOutTimes times = wp.server().rooms().fanOutTimes();

    // Each arrival is announced to those already there: every join but the first had an audience.
    int joins = READERS.size() + 1;
    await().atMost(StreamProbe.WAIT).until(() -> times.count() == joins - 1);
    Histogram before = times.total();

    StreamProbe alice = readers.getFirst();
    long start = System.nanoTime();
    long last = 0;
    for (int i = 1; i <= COMMANDS; i++) {
      last = alice.resultOf(alice.command(Commands.seek(i * 1_000L))).getAccepted().getSequence();
    }
    long lastSequence = last;
    // Alice read up to each command's result, which follows its event.
    for (StreamProbe reader : readers.subList(1, readers.size())) {
      reader.until(m -> m.getSequence() == lastSequence);
    }
    await().atMost(StreamProbe.WAIT).until(() -> times.count() == joins - 1 + COMMANDS);
    long windowMicros = (System.nanoTime() - start) / 1_000;

    assertThat(
            RoomFixture.settled(wp.server().rooms().find(roomId))
                .connectionsOf("farid")
                .getFirst()
                .resyncs())
        .as("the stalled stream's backlog was dropped for a snapshot")
        .isPositive();
    Histogram commands = times.total();
    commands.subtract(before);
    assertThat(commands.getTotalCount()).isEqualTo(COMMANDS);
    assertThat(commands.getMinValue()).isNotNegative();
    // Each command's fan-out lies within the window from its first send to the last delivery.
    assertThat(commands.getMaxValue())
        .isLessThanOrEqualTo(commands.highestEquivalentValue(windowMicros));
    assertThat(times.count()).as("nothing more was recorded").isEqualTo(joins - 1 + COMMANDS);
  }
}
