package io.watchparty.server.rpc;

import static io.watchparty.server.testing.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import com.google.rpc.ErrorInfo;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Status.Code;
import io.grpc.stub.MetadataUtils;
import io.watchparty.proto.v1.AuthorizeViewerRequest;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.CreateRoomResponse;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.GetRoomRequest;
import io.watchparty.proto.v1.HostLeavePolicy;
import io.watchparty.proto.v1.IssueDemoTokenRequest;
import io.watchparty.proto.v1.LeaveRoomRequest;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.RotateInviteRequest;
import io.watchparty.proto.v1.RotateInviteResponse;
import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.ViewerGrant;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.auth.AuthSettings;
import io.watchparty.server.auth.DemoUsers;
import io.watchparty.server.auth.TokenService;
import io.watchparty.server.testing.CapturedLog;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Who may create, see and enter rooms: tokens, subscriptions, invites, ids. */
class RoomAccessIT {
  @RegisterExtension static final TestServer wp = TestServer.builder().build();

  @Test
  void privateRoomComesWithAnUnguessableInviteInItsShareLink() {
    CreateRoomResponse created = wp.createRoom("alice", Visibility.PRIVATE);

    RoomInfo room = created.getRoom();
    assertThat(UUID.fromString(room.getRoomId()).toString()).isEqualTo(room.getRoomId());
    assertThat(room.getHostUserId()).isEqualTo("alice");
    assertThat(room.getHostDisplayName()).isEqualTo("Alice");
    assertThat(room.getTitleId()).isEqualTo("big-buck-bunny");
    assertThat(room.getName()).isEqualTo("alice's party");
    assertThat(room.getSettings().getVisibility()).isEqualTo(Visibility.PRIVATE);
    assertThat(room.getSettings().getHostLeavePolicy()).isEqualTo(HostLeavePolicy.TRANSFER_HOST);
    assertThat(room.getClosed()).isFalse();
    assertThat(room.getMemberCount()).isZero();

    String token = created.getInviteToken();
    assertThat(token).matches("[A-Za-z0-9_-]{22}");
    assertThat(Base64.getUrlDecoder().decode(token)).hasSize(16); // 128 bits
    assertThat(created.getShareLink())
        .isEqualTo(TestServer.LINKS + "/rooms/" + room.getRoomId() + "#invite=" + token);

    assertThat(wp.createRoom("alice", Visibility.PRIVATE).getInviteToken()).isNotEqualTo(token);
  }

  @Test
  void everyRoomInfoSaysWhetherTheCallerCanWatchIt() {
    CreateRoomResponse created = wp.createRoom("alice", Visibility.PUBLIC);
    String roomId = created.getRoom().getRoomId();

    assertThat(created.getRoom().getCanWatch()).as("CreateRoomResponse.room").isTrue();
    assertThat(wp.connect("bob").join(roomId).snapshot().getRoom().getCanWatch())
        .as("Snapshot.room")
        .isTrue();
    assertThat(wp.as("chiara").getRoom(get(roomId, "")).getCanWatch()).as("GetRoom").isTrue();
  }

  @Test
  void publicRoomHasNoInviteToken() {
    CreateRoomResponse created = wp.createRoom("alice", Visibility.PUBLIC);

    assertThat(created.getInviteToken()).isEmpty();
    assertThat(created.getShareLink())
        .isEqualTo(TestServer.LINKS + "/rooms/" + created.getRoom().getRoomId());
    assertThat(described(wp.as("bob").getRoom(get(created.getRoom().getRoomId(), ""))))
        .isEqualTo(described(created.getRoom()));
  }

  @Test
  void privateRoomIsHiddenFromOutsidersWithoutTheInvite() {
    CreateRoomResponse created = wp.createRoom("alice", Visibility.PRIVATE);
    String roomId = created.getRoom().getRoomId();

    assertRefused(
        () -> wp.as("bob").getRoom(get(roomId, "")), Code.NOT_FOUND, ErrorReason.ROOM_NOT_FOUND);
    assertRefused(
        () -> wp.as("bob").getRoom(get(roomId, "AAAAAAAAAAAAAAAAAAAAAA")),
        Code.NOT_FOUND,
        ErrorReason.ROOM_NOT_FOUND);

    assertThat(described(wp.as("bob").getRoom(get(roomId, created.getInviteToken()))))
        .isEqualTo(described(created.getRoom()));
    assertThat(described(wp.as("alice").getRoom(get(roomId, ""))))
        .isEqualTo(described(created.getRoom()));
  }

  @Test
  void rotatingTheInviteRefusesTheOldTokenAndAcceptsTheNewOne() {
    CreateRoomResponse created = wp.createRoom("alice", Visibility.PRIVATE);
    String roomId = created.getRoom().getRoomId();
    String oldToken = created.getInviteToken();

    assertRefused(
        () -> wp.as("bob").rotateInvite(RotateInviteRequest.newBuilder().setRoomId(roomId).build()),
        Code.PERMISSION_DENIED,
        ErrorReason.NOT_HOST);
    RotateInviteResponse rotated =
        wp.as("alice").rotateInvite(RotateInviteRequest.newBuilder().setRoomId(roomId).build());

    assertThat(rotated.getInviteToken()).matches("[A-Za-z0-9_-]{22}").isNotEqualTo(oldToken);
    assertThat(rotated.getShareLink())
        .isEqualTo(TestServer.LINKS + "/rooms/" + roomId + "#invite=" + rotated.getInviteToken());

    wp.connect("bob")
        .join(roomId, oldToken)
        .awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.INVITE_TOKEN_INVALID);
    assertRefused(
        () -> wp.as("bob").getRoom(get(roomId, oldToken)),
        Code.NOT_FOUND,
        ErrorReason.ROOM_NOT_FOUND);

    Snapshot snapshot = wp.connect("bob").join(roomId, rotated.getInviteToken()).snapshot();
    assertThat(snapshot.getYourRole()).isEqualTo(Role.VIEWER);
    assertThat(snapshot.getRoom().getRoomId()).isEqualTo(roomId);
  }

  @Test
  void aPartyMemberComesBackToAPrivateRoomWithoutItsInviteUntilTheyLeaveForGood() {
    CreateRoomResponse created = wp.createRoom("alice", Visibility.PRIVATE);
    String roomId = created.getRoom().getRoomId();
    StreamProbe first = wp.connect("bob").join(roomId, created.getInviteToken());
    first.snapshot();
    first.disconnect();
    // A new server instance: only storage remembers that bob is in the party ("your parties").
    wp.restart();

    Snapshot back = wp.connect("bob").join(roomId).snapshot();
    assertThat(back.getYourRole()).isEqualTo(Role.VIEWER);
    ViewerGrant relayed =
        wp.as("bob").authorizeViewer(AuthorizeViewerRequest.newBuilder().setRoomId(roomId).build());
    assertThat(relayed.getRole()).isEqualTo(Role.VIEWER);
    // Someone who never joined still needs the invite.
    wp.connect("chiara")
        .join(roomId)
        .awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.INVITE_TOKEN_INVALID);

    wp.as("bob").leaveRoom(LeaveRoomRequest.newBuilder().setRoomId(roomId).build());
    wp.connect("bob")
        .join(roomId)
        .awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.INVITE_TOKEN_INVALID);
  }

  @Test
  void joiningAPrivateRoomWithoutTheInviteIsRefused() {
    String roomId = wp.createRoom("alice", Visibility.PRIVATE).getRoom().getRoomId();

    wp.connect("bob")
        .join(roomId)
        .awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.INVITE_TOKEN_INVALID);
    // The host needs no invite to her own room.
    assertThat(wp.connect("alice").join(roomId).snapshot().getYourRole()).isEqualTo(Role.HOST);
  }

  @Test
  void callsWithoutAValidBearerTokenAreUnauthenticated() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    String forged =
        new TokenService(
                AuthSettings.hs256("some-other-secret-0123456789-abcdefghij", true),
                Clock.systemUTC())
            .issue(DemoUsers.find("alice").orElseThrow(), Duration.ofHours(1));
    String expired =
        wp.server().tokens().issue(DemoUsers.find("alice").orElseThrow(), Duration.ofMinutes(-5));

    assertRefused(
        () -> wp.anonymous().getRoom(get(roomId, "")),
        Code.UNAUTHENTICATED,
        ErrorReason.TOKEN_MISSING);
    assertRefused(
        () -> wp.withRawToken(forged).getRoom(get(roomId, "")),
        Code.UNAUTHENTICATED,
        ErrorReason.TOKEN_INVALID);
    assertRefused(
        () -> wp.withRawToken("not-a-jwt").getRoom(get(roomId, "")),
        Code.UNAUTHENTICATED,
        ErrorReason.TOKEN_INVALID);
    assertRefused(
        () -> wp.withRawToken(expired).getRoom(get(roomId, "")),
        Code.UNAUTHENTICATED,
        ErrorReason.TOKEN_EXPIRED);

    wp.connectWithToken("nobody", null, false)
        .join(roomId)
        .awaitRefusal(Code.UNAUTHENTICATED, ErrorReason.TOKEN_MISSING);
    wp.connectWithToken("forger", forged, false)
        .join(roomId)
        .awaitRefusal(Code.UNAUTHENTICATED, ErrorReason.TOKEN_INVALID);
    wp.connectWithToken("late", expired, false)
        .join(roomId)
        .awaitRefusal(Code.UNAUTHENTICATED, ErrorReason.TOKEN_EXPIRED);
  }

  @Test
  void callsWithTwoAuthorizationValuesAreRefusedQuietly() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    String alice = wp.token("alice");
    // Two valid tokens of two users, and the same token twice: the call is no one caller's.
    for (String second : List.of(wp.token("bob"), alice)) {
      Channel twice =
          ClientInterceptors.intercept(
              wp.channel(), MetadataUtils.newAttachHeadersInterceptor(TestServer.bearer(second)));
      try (CapturedLog log = CapturedLog.of(ErrorMapper.class)) {
        ErrorInfo info =
            assertRefused(
                () ->
                    TestServer.withToken(RoomServiceGrpc.newBlockingStub(twice), alice)
                        .getRoom(get(roomId, "")),
                Code.UNAUTHENTICATED,
                ErrorReason.TOKEN_INVALID);
        assertThat(info.getMetadataMap()).containsEntry("authorization_values", "2");
        StreamProbe.open(twice, "alice-twice", alice)
            .join(roomId)
            .awaitRefusal(Code.UNAUTHENTICATED, ErrorReason.TOKEN_INVALID);
        assertThat(log.at(Level.ERROR)).isEmpty();
      }
    }
  }

  @Test
  void demoTokenServiceIssuesTokensTheRoomServiceAccepts() {
    var issued =
        wp.demoAuth().issueDemoToken(IssueDemoTokenRequest.newBuilder().setUserId("bob").build());

    assertThat(issued.getUser().getUserId()).isEqualTo("bob");
    assertThat(issued.getUser().getRegion()).isEqualTo("GB");
    CreateRoomResponse created =
        wp.withRawToken(issued.getToken())
            .createRoom(
                CreateRoomRequest.newBuilder()
                    .setTitleId("sintel")
                    .setName("Bob's")
                    .setSettings(RoomSettings.newBuilder().setVisibility(Visibility.PUBLIC))
                    .build());
    assertThat(created.getRoom().getHostUserId()).isEqualTo("bob");
    assertRefused(
        () ->
            wp.demoAuth()
                .issueDemoToken(IssueDemoTokenRequest.newBuilder().setUserId("mallory").build()),
        Code.NOT_FOUND,
        ErrorReason.DEMO_USER_NOT_FOUND);
  }

  @Test
  void withoutSubscriptionNobodyHostsOrJoins() {
    assertRefused(
        () -> wp.createRoom("dmitri", Visibility.PUBLIC),
        Code.PERMISSION_DENIED,
        ErrorReason.SUBSCRIPTION_INACTIVE);

    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    wp.connect("dmitri")
        .join(roomId)
        .awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.SUBSCRIPTION_INACTIVE);
    assertThat(wp.as("alice").getRoom(get(roomId, "")).getMemberCount()).isZero();
  }

  @Test
  void unknownRoomIsNotFound() {
    String unknown = UUID.randomUUID().toString();

    ErrorReason reason = ErrorReason.ROOM_NOT_FOUND;
    assertThat(
            assertRefused(() -> wp.as("bob").getRoom(get(unknown, "")), Code.NOT_FOUND, reason)
                .getMetadataMap())
        .containsEntry("room_id", unknown);
    assertRefused(
        () ->
            wp.as("bob")
                .sendCommand(
                    SendCommandRequest.newBuilder()
                        .setRoomId(unknown)
                        .setCommand(Commands.play())
                        .build()),
        Code.NOT_FOUND,
        reason);
    assertRefused(
        () ->
            wp.as("bob").rotateInvite(RotateInviteRequest.newBuilder().setRoomId(unknown).build()),
        Code.NOT_FOUND,
        reason);
    wp.connect("bob").join(unknown).awaitRefusal(Code.NOT_FOUND, reason);
  }

  @Test
  void malformedIdsAreInvalidArguments() {
    for (String bad : new String[] {"", "room-1", UUID.randomUUID().toString().toUpperCase()}) {
      assertRefused(
          () -> wp.as("bob").getRoom(get(bad, "")),
          Code.INVALID_ARGUMENT,
          ErrorReason.MALFORMED_ID);
    }
    wp.connect("bob")
        .join("../../etc/passwd")
        .awaitRefusal(Code.INVALID_ARGUMENT, ErrorReason.MALFORMED_ID);
    assertRefused(
        () ->
            wp.as("alice")
                .createRoom(
                    CreateRoomRequest.newBuilder()
                        .setTitleId("Big Buck Bunny")
                        .setName("x")
                        .setSettings(RoomSettings.newBuilder().setVisibility(Visibility.PUBLIC))
                        .build()),
        Code.INVALID_ARGUMENT,
        ErrorReason.MALFORMED_ID);
  }

  @Test
  void roomsNeedAKnownTitleANameAndAVisibility() {
    RoomSettings publicRoom = RoomSettings.newBuilder().setVisibility(Visibility.PUBLIC).build();
    assertRefused(
        () ->
            wp.as("alice")
                .createRoom(
                    CreateRoomRequest.newBuilder()
                        .setTitleId("no-such-film")
                        .setName("x")
                        .setSettings(publicRoom)
                        .build()),
        Code.NOT_FOUND,
        ErrorReason.TITLE_NOT_FOUND);
    assertRefused(
        () ->
            wp.as("alice")
                .createRoom(
                    CreateRoomRequest.newBuilder()
                        .setTitleId("sintel")
                        .setName("  ")
                        .setSettings(publicRoom)
                        .build()),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_SETTING);
    assertRefused(
        () ->
            wp.as("alice")
                .createRoom(
                    CreateRoomRequest.newBuilder().setTitleId("sintel").setName("x").build()),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_SETTING);
  }

  @Test
  void messagesBeforeJoinEndTheStream() {
    StreamProbe bob = wp.connect("bob");
    bob.command(Commands.play());

    bob.awaitRefusal(Code.FAILED_PRECONDITION, ErrorReason.NOT_JOINED);
  }

  @Test
  void aRefusedStreamCannotJoinAgain() {
    CreateRoomResponse created = wp.createRoom("alice", Visibility.PRIVATE);
    String roomId = created.getRoom().getRoomId();
    StreamProbe bob = wp.connect("bob");

    bob.join(roomId, "wrong-token");
    bob.join(roomId, created.getInviteToken());

    bob.awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.INVITE_TOKEN_INVALID);
    assertThat(bob.pending()).isZero();
    assertThat(wp.as("alice").getRoom(get(roomId, "")).getMemberCount()).isZero();
    assertThat(wp.connect("alice").join(roomId).snapshot().getMembersList())
        .extracting(m -> m.getUserId())
        .containsExactly("alice");
  }

  /** The room as described to everyone: without can_watch, which depends on the caller. */
  private static RoomInfo described(RoomInfo info) {
    return info.toBuilder().clearCanWatch().build();
  }

  private static GetRoomRequest get(String roomId, String inviteToken) {
    return GetRoomRequest.newBuilder().setRoomId(roomId).setInviteToken(inviteToken).build();
  }
}
