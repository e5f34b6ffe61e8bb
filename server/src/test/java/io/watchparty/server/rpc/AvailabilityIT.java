package io.watchparty.server.rpc;

import static io.watchparty.server.testing.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.Status.Code;
import io.watchparty.proto.v1.AuthorizeViewerRequest;
import io.watchparty.proto.v1.ClearAvailabilityRequest;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.CommandAccepted;
import io.watchparty.proto.v1.CountUnableToWatchRequest;
import io.watchparty.proto.v1.CountUnableToWatchResponse;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.GetAvailabilityRequest;
import io.watchparty.proto.v1.GetRoomRequest;
import io.watchparty.proto.v1.GetTitleRequest;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.LicenceWindow;
import io.watchparty.proto.v1.ListPublicRoomsRequest;
import io.watchparty.proto.v1.ListTitlesRequest;
import io.watchparty.proto.v1.PlaybackCommand;
import io.watchparty.proto.v1.RelayAudience;
import io.watchparty.proto.v1.RelayedViewer;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.ServerMessage.KindCase;
import io.watchparty.proto.v1.SetAvailabilityRequest;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.Title;
import io.watchparty.proto.v1.TitleInfo;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.proto.v1.Watchability;
import io.watchparty.server.testing.TestServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Regional catalogs: nobody watches a title their region lacks, whatever the host or the invite
 * says, and everybody is told so. Uses the demo matrix: {@code metropolis} is not licensed in JP
 * (hiro) or BR; {@code the-cabinet-of-dr-caligari} opens in the US (alice) in three days; {@code
 * sintel} is licensed everywhere.
 */
class AvailabilityIT {
  /**
   * A server of each test's own (an instance field): tests change the matrix, and each start sets
   * the demo matrix's entries again.
   */
  @RegisterExtension final TestServer server = TestServer.builder().build();

  private String createRoom(String host, String titleId, Visibility visibility) {
    return server
        .as(host)
        .createRoom(
            CreateRoomRequest.newBuilder()
                .setTitleId(titleId)
                .setName(titleId + " night")
                .setSettings(RoomSettings.newBuilder().setVisibility(visibility))
                .build())
        .getRoom()
        .getRoomId();
  }

  /** Alice, the host, switches the room to another title. */
  private CommandAccepted switchTitle(String roomId, String titleId) {
    return server
        .as("alice")
        .sendCommand(
            SendCommandRequest.newBuilder()
                .setRoomId(roomId)
                .setCommand(changeTitle(titleId))
                .build());
  }

  private static Command changeTitle(String titleId) {
    return Command.newBuilder()
        .setPlayback(
            PlaybackCommand.newBuilder()
                .setChangeTitle(PlaybackCommand.ChangeTitle.newBuilder().setTitleId(titleId)))
        .build();
  }

  @Test
  void refusesToCreateARoomForATitleTheHostsRegionLacks() {
    ErrorInfo info =
        assertRefused(
            () -> createRoom("alice", "the-cabinet-of-dr-caligari", Visibility.PUBLIC),
            Code.FAILED_PRECONDITION,
            ErrorReason.TITLE_NOT_AVAILABLE_IN_REGION);
    assertThat(info.getMetadataMap())
        .containsEntry("region", "US")
        .containsEntry("title_id", "the-cabinet-of-dr-caligari");
  }

  @Test
  void refusesJoinFromUnlicensedRegionWhateverTheInviteSays() {
    var created =
        server
            .as("alice")
            .createRoom(
                CreateRoomRequest.newBuilder()
                    .setTitleId("metropolis")
                    .setName("Metropolis")
                    .setSettings(RoomSettings.newBuilder().setVisibility(Visibility.PRIVATE))
                    .build());
    var hiro = server.connect("hiro").join(created.getRoom().getRoomId(), created.getInviteToken());
    ErrorInfo info =
        hiro.awaitRefusal(Code.FAILED_PRECONDITION, ErrorReason.TITLE_NOT_AVAILABLE_IN_REGION);
    assertThat(info.getMetadataMap())
        .containsEntry("region", "JP")
        .containsEntry("title_id", "metropolis");

    var bob = server.connect("bob").join(created.getRoom().getRoomId(), created.getInviteToken());
    assertThat(bob.snapshot().getCanWatch()).isTrue();
  }

  @Test
  void titleChangeTellsMembersWhoCannotWatchAndTheHostHowMany() {
    String roomId = createRoom("alice", "sintel", Visibility.PUBLIC);
    var alice = server.connect("alice").join(roomId);
    var bob = server.connect("bob").join(roomId);
    var hiro = server.connect("hiro").join(roomId);
    alice.snapshot();
    bob.snapshot();
    assertThat(hiro.snapshot().getCanWatch()).isTrue();

    CountUnableToWatchResponse before =
        server
            .as("alice")
            .countUnableToWatch(
                CountUnableToWatchRequest.newBuilder()
                    .setRoomId(roomId)
                    .setTitleId("metropolis")
                    .build());
    assertThat(before.getUnableToWatch()).isEqualTo(1);
    assertThat(before.getMemberCount()).isEqualTo(3);

    CommandAccepted accepted = switchTitle(roomId, "metropolis");
    assertThat(accepted.getMembersUnableToWatch()).isEqualTo(1);

    // Hiro stays in the room: he sees the change, then why he cannot play it.
    var change = hiro.skipTo(KindCase.PLAYBACK_CHANGED).getPlaybackChanged();
    assertThat(change.getState().getTitleId()).isEqualTo("metropolis");
    Watchability told = hiro.next(KindCase.WATCHABILITY).getWatchability();
    assertThat(told.getCanWatch()).isFalse();
    assertThat(told.getRegion()).isEqualTo("JP");
    assertThat(told.getTitleId()).isEqualTo("metropolis");
    assertThat(told.getReason()).isEqualTo(ErrorReason.TITLE_NOT_AVAILABLE_IN_REGION.name());

    // Bob can watch it: he is told nothing beyond the change itself.
    assertThat(bob.skipTo(KindCase.PLAYBACK_CHANGED).getPlaybackChanged().getState().getTitleId())
        .isEqualTo("metropolis");

    switchTitle(roomId, "sintel");
    assertThat(hiro.skipTo(KindCase.WATCHABILITY).getWatchability().getCanWatch()).isTrue();
    assertThat(
            bob.until(m -> m.getKindCase() == KindCase.PLAYBACK_CHANGED).stream()
                .noneMatch(m -> m.getKindCase() == KindCase.WATCHABILITY))
        .isTrue();
  }

  @Test
  void aTitleSwitchTellsNothingToMembersWhoCanWatchBothTitles() {
    // Alice (US), Bob (GB) and Chiara (IT) can watch sintel and metropolis alike; Hiro (JP) cannot
    // watch metropolis.
    String roomId = createRoom("alice", "sintel", Visibility.PUBLIC);
    var alice = server.connect("alice").join(roomId);
    var bob = server.connect("bob").join(roomId);
    var chiara = server.connect("chiara").join(roomId);
    var hiro = server.connect("hiro").join(roomId);
    for (var member : List.of(alice, bob, chiara, hiro)) {
      assertThat(member.snapshot().getCanWatch()).as(member.userId()).isTrue();
    }

    switchTitle(roomId, "metropolis");
    assertThat(hiro.skipTo(KindCase.WATCHABILITY).getWatchability().getCanWatch()).isFalse();
    switchTitle(roomId, "sintel");
    assertThat(hiro.skipTo(KindCase.WATCHABILITY).getWatchability().getCanWatch()).isTrue();

    // A ping after both switches: its pong comes behind every event the switches sent.
    for (var member : List.of(alice, bob, chiara)) {
      member.ping(1);
      assertThat(member.until(m -> m.getKindCase() == KindCase.PONG))
          .as("%s's messages up to the pong", member.userId())
          .extracting(m -> m.getKindCase())
          .doesNotContain(KindCase.WATCHABILITY)
          .containsSubsequence(KindCase.PLAYBACK_CHANGED, KindCase.PLAYBACK_CHANGED);
    }
  }

  @Test
  void aMemberWhoseRegionLosesTheTitleStaysInThePartyAndComesBackToIt() {
    var created =
        server
            .as("alice")
            .createRoom(
                CreateRoomRequest.newBuilder()
                    .setTitleId("sintel")
                    .setName("Sintel")
                    .setSettings(RoomSettings.newBuilder().setVisibility(Visibility.PRIVATE))
                    .build());
    String roomId = created.getRoom().getRoomId();
    server.connect("alice").join(roomId).snapshot();
    var hiro = server.connect("hiro").join(roomId, created.getInviteToken());
    assertThat(hiro.snapshot().getCanWatch()).isTrue();
    switchTitle(roomId, "metropolis");
    assertThat(hiro.skipTo(KindCase.WATCHABILITY).getWatchability().getCanWatch()).isFalse();

    // His connection drops; he comes back without the invite, and so does a second tab of his
    // through the web bridge: both are let in, told he cannot play the title.
    hiro.disconnect();
    Snapshot back = server.connect("hiro").join(roomId).snapshot();
    assertThat(back.getCanWatch()).isFalse();
    assertThat(back.getRoom().getTitleId()).isEqualTo("metropolis");
    var tab =
        server
            .as("hiro")
            .authorizeViewer(AuthorizeViewerRequest.newBuilder().setRoomId(roomId).build());
    assertThat(tab.getRoom().getCanWatch()).isFalse();

    // A newcomer from a region without the title is refused, invite or not, by stream and tab.
    server
        .connect("gabriela")
        .join(roomId, created.getInviteToken())
        .awaitRefusal(Code.FAILED_PRECONDITION, ErrorReason.TITLE_NOT_AVAILABLE_IN_REGION);
    assertRefused(
        () ->
            server
                .as("gabriela")
                .authorizeViewer(
                    AuthorizeViewerRequest.newBuilder()
                        .setRoomId(roomId)
                        .setInviteToken(created.getInviteToken())
                        .build()),
        Code.FAILED_PRECONDITION,
        ErrorReason.TITLE_NOT_AVAILABLE_IN_REGION);

    // After a restart the room knows his membership from storage only.
    server.restart();
    assertThat(server.connect("hiro").join(roomId).snapshot().getCanWatch()).isFalse();
  }

  @Test
  void aViewerARelayNamesAfterTheirWindowClosedIsToldAtOnce() {
    // The relay's tab may have shown its own, older answer: the room tells the truth on arrival.
    String roomId = createRoom("alice", "sintel", Visibility.PUBLIC);
    var relay = server.connect("web-bridge");
    relay.send(
        ClientMessage.newBuilder()
            .setJoin(Join.newBuilder().setRoomId(roomId).setAsRelay(true))
            .build());
    relay.snapshot();
    server
        .catalogAdminAs("admin")
        .clearAvailability(
            ClearAvailabilityRequest.newBuilder().setTitleId("sintel").setRegion("IT").build());

    relay.send(
        ClientMessage.newBuilder()
            .setRelayAudience(
                RelayAudience.newBuilder()
                    .setViewerCount(2)
                    .addAllAddedUserIds(List.of("chiara", "bob"))
                    .addAddedViewers(
                        RelayedViewer.newBuilder()
                            .setUserId("chiara")
                            .setDisplayName("Chiara")
                            .setRegion("IT"))
                    .addAddedViewers(
                        RelayedViewer.newBuilder()
                            .setUserId("bob")
                            .setDisplayName("Bob")
                            .setRegion("GB")))
            .build());

    Watchability told = relay.skipTo(KindCase.WATCHABILITY).getWatchability();
    assertThat(told.getUserId()).isEqualTo("chiara");
    assertThat(told.getCanWatch()).isFalse();
    assertThat(told.getRegion()).isEqualTo("IT");
  }

  @Test
  void licenceWindowEndingDuringThePartyIsAnnouncedAtThatMoment() {
    String roomId = createRoom("alice", "sintel", Visibility.PUBLIC);
    var bob = server.connect("bob").join(roomId);
    assertThat(bob.snapshot().getCanWatch()).isTrue();

    long until = System.currentTimeMillis() + 1_500;
    server
        .catalogAdminAs("admin")
        .setAvailability(
            SetAvailabilityRequest.newBuilder()
                .setTitleId("sintel")
                .setRegion("GB")
                .setWindow(LicenceWindow.newBuilder().setUntilMs(until))
                .build());

    Watchability told = bob.skipTo(KindCase.WATCHABILITY).getWatchability();
    assertThat(told.getCanWatch()).isFalse();
    assertThat(told.getRegion()).isEqualTo("GB");
    assertThat(System.currentTimeMillis()).isGreaterThanOrEqualTo(until);
    assertThat(
            server
                .as("bob")
                .getRoom(GetRoomRequest.newBuilder().setRoomId(roomId).build())
                .getCanWatch())
        .isFalse();
  }

  @Test
  void adminChangeReachesTheRoomAtOnce() {
    String roomId = createRoom("alice", "sintel", Visibility.PUBLIC);
    var emma = server.connect("emma").join(roomId);
    emma.snapshot();

    server
        .catalogAdminAs("admin")
        .clearAvailability(
            ClearAvailabilityRequest.newBuilder().setTitleId("sintel").setRegion("FR").build());
    assertThat(emma.skipTo(KindCase.WATCHABILITY).getWatchability().getCanWatch()).isFalse();
    // Her second device joins a room that knows already (she stays a member, told she cannot play).
    assertThat(server.connect("emma").join(roomId).snapshot().getCanWatch()).isFalse();
  }

  @Test
  void directoryTellsEachUserWhetherTheyCanWatch() {
    String metropolis = createRoom("alice", "metropolis", Visibility.PUBLIC);
    String sintel = createRoom("alice", "sintel", Visibility.PUBLIC);

    Map<String, Boolean> forHiro =
        server
            .as("hiro")
            .listPublicRooms(ListPublicRoomsRequest.newBuilder().setPageSize(100).build())
            .getRoomsList()
            .stream()
            .collect(Collectors.toMap(RoomInfo::getRoomId, RoomInfo::getCanWatch));
    assertThat(forHiro).containsEntry(metropolis, false).containsEntry(sintel, true);

    Map<String, Boolean> forBob =
        server
            .as("bob")
            .listPublicRooms(ListPublicRoomsRequest.newBuilder().setPageSize(100).build())
            .getRoomsList()
            .stream()
            .collect(Collectors.toMap(RoomInfo::getRoomId, RoomInfo::getCanWatch));
    assertThat(forBob).containsEntry(metropolis, true).containsEntry(sintel, true);
  }

  @Test
  void catalogShowsTheCallersRegionWindow() {
    TitleInfo caligari =
        server
            .catalogAs("alice")
            .getTitle(
                GetTitleRequest.newBuilder().setTitleId("the-cabinet-of-dr-caligari").build());
    assertThat(caligari.getCanWatch()).isFalse();
    assertThat(caligari.getRegion()).isEqualTo("US");
    assertThat(caligari.getWindow().getFromMs()).isGreaterThan(System.currentTimeMillis());

    var titles = server.catalogAs("hiro").listTitles(ListTitlesRequest.getDefaultInstance());
    assertThat(titles.getTitlesCount()).isGreaterThanOrEqualTo(20);
    assertThat(
            titles.getTitlesList().stream()
                .filter(t -> t.getTitle().getTitleId().equals("metropolis"))
                .findFirst()
                .orElseThrow()
                .getCanWatch())
        .isFalse();
  }

  @Test
  void onlyAdminsChangeTheCatalogAndBadInputIsRefused() {
    assertRefused(
        () ->
            server
                .catalogAdminAs("bob")
                .setAvailability(
                    SetAvailabilityRequest.newBuilder()
                        .setTitleId("sintel")
                        .setRegion("GB")
                        .build()),
        Code.PERMISSION_DENIED,
        ErrorReason.NOT_ADMIN);
    assertRefused(
        () -> server.catalogAdminAs("bob").putTitle(Title.getDefaultInstance()),
        Code.PERMISSION_DENIED,
        ErrorReason.NOT_ADMIN);
    var admin = server.catalogAdminAs("admin");
    assertRefused(
        () ->
            admin.setAvailability(
                SetAvailabilityRequest.newBuilder().setTitleId("sintel").setRegion("gb").build()),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_REGION);
    assertRefused(
        () ->
            admin.setAvailability(
                SetAvailabilityRequest.newBuilder()
                    .setTitleId("sintel")
                    .setRegion("GB")
                    .setWindow(LicenceWindow.newBuilder().setFromMs(2_000).setUntilMs(1_000))
                    .build()),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_WINDOW);
    assertRefused(
        () -> admin.getAvailability(GetAvailabilityRequest.newBuilder().setTitleId("nope").build()),
        Code.NOT_FOUND,
        ErrorReason.TITLE_NOT_FOUND);

    Title added =
        Title.newBuilder()
            .setTitleId("admin-added")
            .setName("Added by an admin")
            .setDurationMs(Duration.ofMinutes(90).toMillis())
            .setMediaUrl("/media/admin-added.mp4")
            .setDescription("A title the admin added.")
            .setYear(2026)
            .build();
    admin.putTitle(added);
    admin.setAvailability(
        SetAvailabilityRequest.newBuilder().setTitleId("admin-added").setRegion("JP").build());
    assertThat(
            admin
                .getAvailability(
                    GetAvailabilityRequest.newBuilder().setTitleId("admin-added").build())
                .getWindowsMap())
        .containsOnlyKeys("JP");
    assertThat(
            server
                .catalogAs("hiro")
                .getTitle(GetTitleRequest.newBuilder().setTitleId("admin-added").build())
                .getCanWatch())
        .isTrue();
  }
}
