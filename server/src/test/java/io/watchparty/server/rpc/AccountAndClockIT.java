package io.watchparty.server.rpc;

import static io.watchparty.server.testing.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status.Code;
import io.watchparty.proto.v1.Account;
import io.watchparty.proto.v1.AccountServiceGrpc;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.ClockPing;
import io.watchparty.proto.v1.ClockPong;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.GetAccountRequest;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.SyncPolicy;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.MutableClock;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What clients learn before and beside a room stream: who their token says they are, the server's
 * clock, and the sync policy every player applies.
 */
class AccountAndClockIT {
  private static final MutableClock clock = MutableClock.atNow();

  @RegisterExtension static final TestServer wp = TestServer.builder().clock(clock).build();

  @Test
  void anAccountIsReadFromTheVerifiedTokenOnly() {
    Account hiro =
        TestServer.withToken(AccountServiceGrpc.newBlockingStub(wp.channel()), wp.token("hiro"))
            .getAccount(GetAccountRequest.getDefaultInstance());
    assertThat(hiro.getUserId()).isEqualTo("hiro");
    assertThat(hiro.getRegion()).isEqualTo("JP");
    assertThat(hiro.getSubscribed()).isTrue();
    assertThat(hiro.getRelay()).isFalse();

    assertRefused(
        () ->
            TestServer.withToken(AccountServiceGrpc.newBlockingStub(wp.channel()), "x.y.z")
                .getAccount(GetAccountRequest.getDefaultInstance()),
        Code.UNAUTHENTICATED,
        ErrorReason.TOKEN_INVALID);
  }

  @Test
  void serverTimeAnswersInTheServersClockAndEchoesTheClientsSendTime() {
    ClockPong pong =
        wp.as("bob").getServerTime(ClockPing.newBuilder().setClientSendTimeMs(1234).build());
    assertThat(pong.getClientSendTimeMs()).isEqualTo(1234);
    // The server's clock stands still in this test: both instants are exactly its reading.
    assertThat(pong.getServerReceiveTimeMs()).isEqualTo(clock.millis());
    assertThat(pong.getServerSendTimeMs()).isEqualTo(clock.millis());
  }

  @Test
  void everySnapshotCarriesTheConfiguredSyncPolicy() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe bob = wp.connect("bob");
    bob.send(ClientMessage.newBuilder().setJoin(Join.newBuilder().setRoomId(roomId)).build());
    Snapshot snapshot = bob.snapshot();
    SyncPolicy policy = snapshot.getSyncPolicy();
    assertThat(policy).isEqualTo(io.watchparty.proto.SyncBands.DEFAULTS.toProto());
    assertThat(policy.getIgnoreBelowMs()).isEqualTo(40);
    assertThat(policy.getSeekAboveMs()).isEqualTo(1000);
    assertThat(policy.getMinNudge()).isEqualTo(0.0011);
  }
}
