package io.watchparty.bridge.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.protobuf.StatusProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Which refusals name an owner the bridge follows, and where a call about a room goes: to the owner
 * a refusal named, once, and back to the upstream when that owner cannot be reached.
 */
class RoomOwnersTest {
  private final ManagedChannel upstream = InProcessChannelBuilder.forName("upstream").build();
  private final List<String> dialled = new ArrayList<>();
  private final Map<String, ManagedChannel> instances = new java.util.HashMap<>();
  private final AtomicInteger moves = new AtomicInteger();
  private final RoomOwners owners =
      new RoomOwners(
          upstream,
          "10.0.0.1:50051",
          address -> {
            dialled.add(address);
            ManagedChannel channel = InProcessChannelBuilder.forName(address).build();
            instances.put(address, channel);
            return channel;
          },
          new CountingMetrics(moves));

  @AfterEach
  void close() {
    owners.close();
    upstream.shutdownNow();
    assertThat(instances.values()).allMatch(ManagedChannel::isShutdown);
  }

  private static StatusRuntimeException refused(
      Code code, String domain, String reason, Map<String, String> metadata) {
    return StatusProto.toStatusRuntimeException(
        com.google.rpc.Status.newBuilder()
            .setCode(code.getNumber())
            .setMessage("refused")
            .addDetails(
                Any.pack(
                    ErrorInfo.newBuilder()
                        .setDomain(domain)
                        .setReason(reason)
                        .putAllMetadata(metadata)
                        .build()))
            .build());
  }

  private static StatusRuntimeException moved(String address) {
    return refused(
        Code.UNAVAILABLE,
        RoomOwners.DOMAIN,
        RoomOwners.ROOM_MOVED,
        Map.of("owner_address", address, "owner_epoch", "2", "room_id", "r"));
  }

  @Test
  void onlyARoomMovedRefusalOfTheServerNamingADialableAddressIsFollowed() {
    assertThat(RoomOwners.movedTo(moved("10.0.0.2:50051"))).contains("10.0.0.2:50051");
    assertThat(RoomOwners.movedTo(moved("[::1]:50051"))).contains("[::1]:50051");

    assertThat(RoomOwners.movedTo(moved(""))).isEmpty();
    assertThat(RoomOwners.movedTo(moved("in-process:abc"))).isEmpty();
    assertThat(RoomOwners.movedTo(moved("10.0.0.2:0"))).isEmpty();
    assertThat(
            RoomOwners.movedTo(
                refused(
                    Code.UNAVAILABLE,
                    "elsewhere.example",
                    RoomOwners.ROOM_MOVED,
                    Map.of("owner_address", "10.0.0.2:50051"))))
        .as("another domain")
        .isEmpty();
    assertThat(
            RoomOwners.movedTo(
                refused(
                    Code.UNAVAILABLE,
                    RoomOwners.DOMAIN,
                    "SERVER_SHUTTING_DOWN",
                    Map.of("owner_address", "10.0.0.2:50051"))))
        .isEmpty();
    assertThat(
            RoomOwners.movedTo(
                refused(
                    Code.NOT_FOUND,
                    RoomOwners.DOMAIN,
                    RoomOwners.ROOM_MOVED,
                    Map.of("owner_address", "10.0.0.2:50051"))))
        .as("another code")
        .isEmpty();
  }

  @Test
  void aCallRefusedRoomMovedIsMadeAgainAtTheNamedOwnerAndLaterCallsGoThere() {
    List<Channel> asked = new ArrayList<>();

    String answer =
        owners.call(
            "r",
            channel -> {
              asked.add(channel);
              if (channel == upstream) {
                throw moved("10.0.0.2:50051");
              }
              return "ok";
            });

    assertThat(answer).isEqualTo("ok");
    assertThat(asked).containsExactly(upstream, instances.get("10.0.0.2:50051"));
    assertThat(moves).hasValue(1);
    assertThat(owners.route("r").owner()).contains("10.0.0.2:50051");
    assertThat(owners.route("r").channel()).isSameAs(instances.get("10.0.0.2:50051"));
    assertThat(owners.route("another room").channel()).isSameAs(upstream);
    owners.route("r");
    assertThat(dialled).as("one channel per instance").containsExactly("10.0.0.2:50051");
  }

  @Test
  void anOwnerNamedByTheUpstreamAddressIsReachedThroughTheUpstreamChannel() {
    owners.follow("r", "10.0.0.2:50051");

    assertThat(owners.follow("r", "10.0.0.1:50051").orElseThrow().channel()).isSameAs(upstream);
    assertThat(owners.route("r").owner()).isEmpty();
  }

  @Test
  void anOwnerThatCannotBeReachedSendsTheCallBackThroughTheUpstream() {
    owners.follow("r", "10.0.0.2:50051");
    List<Optional<String>> asked = new ArrayList<>();

    String answer =
        owners.call(
            "r",
            channel -> {
              asked.add(channel == upstream ? Optional.empty() : Optional.of("owner"));
              if (channel != upstream) {
                throw io.grpc.Status.UNAVAILABLE
                    .withDescription("connection refused")
                    .asRuntimeException();
              }
              return "ok";
            });

    assertThat(answer).isEqualTo("ok");
    assertThat(asked).containsExactly(Optional.of("owner"), Optional.empty());
    assertThat(owners.route("r").owner()).isEmpty();
  }

  @Test
  void aRefusalOtherThanAMoveIsNotRetriedAndCallsStopAfterTwoHops() {
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(
            () ->
                owners.call(
                    "r",
                    channel -> {
                      calls.incrementAndGet();
                      throw io.grpc.Status.PERMISSION_DENIED.asRuntimeException();
                    }))
        .isInstanceOf(StatusRuntimeException.class);
    assertThat(calls).hasValue(1);

    calls.set(0);
    assertThatThrownBy(
            () ->
                owners.call(
                    "r",
                    channel -> {
                      throw moved("10.0.0." + (2 + calls.getAndIncrement()) + ":50051");
                    }))
        .isInstanceOf(StatusRuntimeException.class);
    assertThat(calls).hasValue(1 + RoomOwners.MAX_HOPS);
  }

  /** Counts the moves followed. */
  private static final class CountingMetrics extends NoRelayMetrics {
    private final AtomicInteger moves;

    CountingMetrics(AtomicInteger moves) {
      this.moves = moves;
    }

    @Override
    public void roomMoved() {
      moves.incrementAndGet();
    }
  }
}
