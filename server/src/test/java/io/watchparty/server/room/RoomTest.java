package io.watchparty.server.room;

import static io.watchparty.server.room.RoomFixture.ALICE;
import static io.watchparty.server.room.RoomFixture.BOB;
import static io.watchparty.server.room.RoomFixture.CHIARA;
import static io.watchparty.server.room.RoomFixture.done;
import static io.watchparty.server.room.RoomFixture.settled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.watchparty.proto.Backoff;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.NoticeCode;
import io.watchparty.proto.v1.PlaybackChanged;
import io.watchparty.proto.v1.PlaybackCommand;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.RoleCommand;
import io.watchparty.proto.v1.ServerMessage.KindCase;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.catalog.LicenceWindow;
import io.watchparty.server.catalog.TitleAvailability;
import io.watchparty.server.refusal.RefusedException;
import io.watchparty.server.room.RoomFixture.RecordingSink;
import io.watchparty.server.testing.CapturedLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The room's rules, specified where they live: a room over a map instead of Cassandra (see {@link
 * RoomFixture}). The integration tests check the same behaviour through gRPC and the real node.
 */
class RoomTest {
  private final RoomFixture wp = new RoomFixture();

  @AfterEach
  void close() {
    wp.close();
  }

  private static Command play() {
    return Command.newBuilder()
        .setPlayback(
            PlaybackCommand.newBuilder().setPlay(PlaybackCommand.Play.getDefaultInstance()))
        .build();
  }

  private static Command pause() {
    return Command.newBuilder()
        .setPlayback(
            PlaybackCommand.newBuilder().setPause(PlaybackCommand.Pause.getDefaultInstance()))
        .build();
  }

  private static Command role(RoleCommand.Builder command) {
    return Command.newBuilder().setRole(command).build();
  }

  private static Command changeTitle(String titleId) {
    return Command.newBuilder()
        .setPlayback(
            PlaybackCommand.newBuilder()
                .setChangeTitle(PlaybackCommand.ChangeTitle.newBuilder().setTitleId(titleId)))
        .build();
  }

  @Test
  void aRetiredRoomLeavesNothingScheduledBehind() {
    Room room = wp.create(ALICE, Visibility.PUBLIC);
    RecordingSink alice = wp.join(room, ALICE);
    done(room.command(ALICE, play()));
    room.leave(alice.subscriber);
    assertThat(room.pendingTimers())
        .as("the licence timer runs while the room is open")
        .isPositive();

    // The registry's own sweeps retire it: once empty for two sweeps and its writes are stored.
    wp.time.advance(RoomRegistry.SWEEP_INTERVAL.multipliedBy(2));
    assertThat(wp.registry.loadedRooms()).isZero();
    assertThat(room.pendingTimers()).isZero();
    // Only the registry's own tasks (the sweep, the recording of counts) are left on the shared
    // scheduler: no task of the room keeps it reachable (the licence timer used to reschedule
    // itself every 30 s, forever).
    assertThat(wp.time.scheduled()).isEqualTo(2);
  }

  @Test
  void viewersReconnectingAtOnceShareOneLoadOfTheRoom() throws Exception {
    Room created = wp.create(ALICE, Visibility.PUBLIC);
    String roomId = created.id().toString();
    wp.registry.sweep();
    wp.registry.sweep(); // nobody joined: it leaves memory, as after a restart
    assertThat(wp.registry.loadedRooms()).isZero();
    wp.store.finds.set(0);
    wp.store.readGate = new CompletableFuture<>();

    List<CompletableFuture<Room>> found = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      found.add(wp.registry.find(roomId).toCompletableFuture());
    }
    assertThat(found).as("nobody waits on a thread for the read").noneMatch(Future::isDone);
    wp.store.readGate.complete(null);

    assertThat(wp.store.finds).hasValue(1);
    List<Room> loaded = found.stream().map(RoomFixture::settled).toList();
    assertThat(loaded).allSatisfy(r -> assertThat(r).isSameAs(loaded.getFirst()));
  }

  @Test
  void aFailedLoadIsNotKeptAndTheNextCallerLoadsAgain() {
    assertThatThrownBy(() -> settled(wp.registry.find("00000000-0000-0000-0000-000000000001")))
        .isInstanceOfSatisfying(
            RefusedException.class,
            e -> assertThat(e.reason()).isEqualTo(ErrorReason.ROOM_NOT_FOUND));
    assertThatThrownBy(() -> settled(wp.registry.find("00000000-0000-0000-0000-000000000001")))
        .isInstanceOf(RefusedException.class);
    assertThat(wp.store.finds).hasValue(2);
  }

  @Test
  void availabilityIsNeverLookedUpUnderTheRoomLock() {
    Room room = wp.create(ALICE, Visibility.PUBLIC);
    wp.rooms.add(room);
    RecordingSink alice = wp.join(room, ALICE);
    wp.join(room, CHIARA);
    done(room.command(ALICE, changeTitle("local")));
    room.info("IT");
    room.countUnableToWatch(ALICE, "film");
    settled(room.authorizeViewer(BOB, ""));
    // An admin change through this server: the rooms re-check at once.
    wp.availability.put("local", RoomFixture.everywhere("local"));
    wp.registry.availabilityChanged("local");

    assertThat(wp.lookupsUnderLock).hasValue(0);
    assertThat(alice.kinds()).contains(KindCase.PLAYBACK_CHANGED);
  }

  @Test
  void aMemberWhoseRegionLosesTheTitleIsToldAndTheSnapshotSaysSo() {
    Room room = wp.create(ALICE, Visibility.PUBLIC);
    RecordingSink chiara = wp.join(room, CHIARA);
    assertThat(chiara.snapshot().getCanWatch()).isTrue();
    assertThat(chiara.snapshot().getRoom().getCanWatch())
        .as("the snapshot's room says whether the caller can watch it")
        .isTrue();

    wp.availability.put("film", new TitleAvailability("film", Map.of("FR", LicenceWindow.ALWAYS)));
    wp.registry.availabilityChanged("film");

    var notice = chiara.frames.getLast();
    assertThat(notice.hasWatchability()).isTrue();
    assertThat(notice.getWatchability().getCanWatch()).isFalse();
    assertThat(notice.getWatchability().getRegion()).isEqualTo("IT");
  }

  @Test
  void receiversThatOverflowTogetherShareOneSnapshot() {
    Room room = wp.create(ALICE, Visibility.PUBLIC);
    wp.join(room, ALICE);
    List<RecordingSink> slow = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      RecordingSink sink = new RecordingSink(256);
      sink.subscriber =
          settled(
              room.join(
                  RoomFixture.user("viewer" + i, "FR"),
                  sink,
                  io.watchparty.proto.v1.Join.newBuilder()
                      .setRoomId(room.id().toString())
                      .build()));
      slow.add(sink);
    }
    slow.forEach(RecordingSink::stall);
    long before = room.snapshotsBuilt();

    done(room.command(ALICE, play()));

    assertThat(slow).allSatisfy(s -> assertThat(s.resets).isEqualTo(1));
    assertThat(room.snapshotsBuilt() - before)
        .as("one snapshot for the twenty viewers that fell behind at the same sequence")
        .isEqualTo(1);
    assertThat(slow.getFirst().frames.getFirst().getSequence())
        .isEqualTo(slow.getLast().frames.getFirst().getSequence());
  }

  @Test
  void aRoleChangeIsAnnouncedAtOnceAndAcknowledgedOnceStoredOffTheStorageThreads()
      throws Exception {
    Room room = wp.create(ALICE, Visibility.PUBLIC);
    wp.join(room, ALICE);
    RecordingSink bob = wp.join(room, BOB);
    CompletableFuture<Void> storage = new CompletableFuture<>();
    wp.store.writeGate = storage;

    CompletionStage<io.watchparty.proto.v1.CommandAccepted> granted =
        room.command(ALICE, role(RoleCommand.newBuilder().setGrantCohost("bob")));
    AtomicReference<String> ackedOn = new AtomicReference<>();
    CompletableFuture<Void> acked =
        granted
            .thenAccept(a -> ackedOn.set(Thread.currentThread().getName()))
            .toCompletableFuture();

    assertThat(bob.frames.getLast().getRoleChanged().getRole()).isEqualTo(Role.COHOST);
    assertThat(acked).as("not acknowledged before Cassandra has it").isNotDone();
    Thread driverIo = Thread.ofPlatform().name("driver-io").start(() -> storage.complete(null));
    driverIo.join();
    wp.time.settle();
    assertThat(acked).isCompleted();

    assertThat(ackedOn.get()).startsWith("room-work-");
    assertThat(wp.store.applied).contains(new RoomChange.CohostSet("bob", true, writeMicrosOf(wp)));
  }

  private static long writeMicrosOf(RoomFixture wp) {
    return wp.store.applied.stream()
        .filter(RoomChange.CohostSet.class::isInstance)
        .mapToLong(RoomChange::writeMicros)
        .findFirst()
        .orElse(-1);
  }

  @Test
  void writesThatFailAreRetriedInOrderUntilStoredAndPlaybackGoesOn() {
    Room room = wp.create(ALICE, Visibility.PUBLIC);
    RecordingSink bob = wp.join(room, BOB);
    wp.join(room, ALICE);
    wp.store.failuresLeft.set(3);

    var played = done(room.command(ALICE, play()));
    var paused = done(room.command(ALICE, pause()));

    assertThat(played.getSequence()).isPositive();
    assertThat(paused.getSequence()).isGreaterThan(played.getSequence());
    assertThat(bob.kinds())
        .containsSubsequence(KindCase.PLAYBACK_CHANGED, KindCase.PLAYBACK_CHANGED);
    // Three backoffs of the default policy (full jitter under 0.2, 0.4 and 0.8 s) fit in 10 s.
    wp.time.advance(Duration.ofSeconds(10));
    // One write at a time, the failed one retried before the next: stored in the order made.
    List<RoomChange> saved =
        wp.store.applied.stream().filter(RoomChange.PlaybackSaved.class::isInstance).toList();
    assertThat(saved).isSortedAccordingTo(Comparator.comparingLong(RoomChange::writeMicros));
    assertThat(((RoomChange.PlaybackSaved) saved.getLast()).playback().playing())
        .as("the newest state is what storage ends with")
        .isFalse();
  }

  @Test
  void aRoomAnotherInstanceTookIsLetGoAtItsNextWriteAndItsClientsAreSentThere() {
    Room room = wp.create(ALICE, Visibility.PUBLIC);
    RecordingSink alice = wp.join(room, ALICE);
    RecordingSink bob = wp.join(room, BOB);
    var other = new Instances.Instance("there", "10.0.0.2:50051");
    RoomOwner taken = wp.store.takeOver(room.id(), other);
    wp.otherLiveInstances.add(other.id());
    assertThat(taken.epoch()).isEqualTo(2);

    // The room does not know yet: playback is applied and acknowledged at once, as always, but its
    // write is refused for the newer epoch, and the room lets go.
    done(room.command(ALICE, play()));
    wp.time.settle();

    for (RecordingSink stream : List.of(alice, bob)) {
      assertThat(stream.refusal).isNotNull();
      assertThat(stream.refusal.reason()).isEqualTo(ErrorReason.ROOM_MOVED);
      assertThat(stream.refusal.details())
          .containsEntry("owner_address", "10.0.0.2:50051")
          .containsEntry("owner_epoch", "2");
    }
    assertRefused(() -> room.command(ALICE, pause()), ErrorReason.ROOM_MOVED);
    assertThat(wp.store.applied)
        .as("nothing the former owner did after the takeover is stored")
        .noneMatch(RoomChange.PlaybackSaved.class::isInstance);
    // A new join is sent to the owner, which is alive: this instance does not take the room back.
    assertRefused(() -> settled(wp.registry.find(room.id().toString())), ErrorReason.ROOM_MOVED);
    assertThat(wp.store.rooms.get(room.id()).owner()).hasValue(taken);
  }

  @Test
  void aRoomAnotherInstanceServesIsListedWithTheCountItsOwnerRecordedWhileThatOwnerIsLive() {
    Room room = wp.create(ALICE, Visibility.PUBLIC);
    wp.join(room, ALICE);
    wp.join(room, BOB);
    wp.time.advance(RoomRegistry.AUDIENCE_INTERVAL);
    assertThat(wp.store.audiences.get(room.id()))
        .as("the owner records how many are present")
        .isEqualTo(new RoomStore.Audience(1, 2));

    var other = new Instances.Instance("there", "10.0.0.2:50051");
    RoomOwner taken = wp.store.takeOver(room.id(), other);
    wp.otherLiveInstances.add(other.id());
    done(room.command(ALICE, play())); // refused in storage: this instance lets the room go
    wp.time.settle();
    wp.store.recordAudience(room.id(), taken.epoch(), 7);
    assertThat(listedMembers(room)).isEqualTo(7);

    // A count from an earlier ownership, or from an owner that is not live, is nobody.
    wp.store.recordAudience(room.id(), taken.epoch() - 1, 9);
    assertThat(listedMembers(room)).isZero();
    wp.store.recordAudience(room.id(), taken.epoch(), 7);
    wp.otherLiveInstances.remove(other.id());
    assertThat(listedMembers(room)).isZero();
  }

  private long listedMembers(Room room) {
    return settled(wp.registry.publicRooms("FR", PublicDirectory.Request.of(0, "")))
        .rooms()
        .stream()
        .filter(info -> info.getRoomId().equals(room.id().toString()))
        .findFirst()
        .orElseThrow()
        .getMemberCount();
  }

  @Test
  void afterAHeartbeatLapseARoomAnotherInstanceTookIsLetGoWithoutWaitingForAWrite() {
    Room taken = wp.create(ALICE, Visibility.PUBLIC);
    RecordingSink bob = wp.join(taken, BOB);
    Room kept = wp.create(ALICE, Visibility.PUBLIC);
    RecordingSink chiara = wp.join(kept, CHIARA);
    wp.join(kept, ALICE);
    var other = new Instances.Instance("there", "10.0.0.2:50051");
    wp.store.takeOver(taken.id(), other);
    wp.otherLiveInstances.add(other.id());

    // Nobody writes to either room; this instance's heartbeat lapsed (it was paused, say).
    settled(wp.registry.confirmOwnership());

    assertThat(bob.refusal).isNotNull();
    assertThat(bob.refusal.reason()).isEqualTo(ErrorReason.ROOM_MOVED);
    assertThat(bob.refusal.details()).containsEntry("owner_address", "10.0.0.2:50051");
    assertThat(chiara.refusal).as("the room it still owns").isNull();
    done(kept.command(ALICE, play()));
    assertRefused(() -> settled(wp.registry.find(taken.id().toString())), ErrorReason.ROOM_MOVED);
  }

  @Test
  void aRoomWhoseOwnerStoppedIsClaimedWithTheNextEpoch() {
    Room room = wp.create(ALICE, Visibility.PUBLIC);
    wp.store.takeOver(room.id(), new Instances.Instance("gone", "10.0.0.3:50051"));
    wp.join(room, ALICE); // alice's membership is written, and refused: the room is let go
    wp.time.settle();

    // The owner "gone" has no heartbeat: the next join here claims the room over its epoch.
    Room again = wp.find(room);
    assertThat(again).isNotSameAs(room);
    assertThat(wp.store.rooms.get(room.id()).owner())
        .hasValue(new RoomOwner(RoomFixture.HERE.id(), RoomFixture.HERE.address(), 3));
    RecordingSink alice = wp.join(again, ALICE);
    // Its numbers count from the new epoch's range: past any number the former owner gave out, so
    // a resume from one of those gets a snapshot, never another owner's events.
    assertThat(alice.frames.getFirst().getSequence() >> RoomOwner.EPOCH_SHIFT).isEqualTo(3);
    done(again.command(ALICE, play()));
    wp.time.settle();
    assertThat(alice.refusal).isNull();
    assertThat(wp.store.applied).anyMatch(RoomChange.PlaybackSaved.class::isInstance);
  }

  @Test
  void aRoomWhoseOwnerDiedIsClaimedByTheInstanceRendezvousHashingPicksOrHereAfterTheGrace() {
    Room room = wp.create(ALICE, Visibility.PUBLIC);
    UUID id = room.id();
    wp.store.takeOver(id, new Instances.Instance("gone", "10.0.0.3:50051"));
    wp.join(room, ALICE); // refused at its write: the room is let go
    wp.time.settle();
    // Another live instance, which rendezvous hashing prefers to this one for this room.
    String other =
        IntStream.range(0, 100)
            .mapToObj(i -> "other-" + i)
            .filter(
                candidate ->
                    RoomRegistry.successorOf(
                            id, List.of(RoomFixture.HERE, new Instances.Instance(candidate, "x:1")))
                        .id()
                        .equals(candidate))
            .findFirst()
            .orElseThrow();
    wp.otherLiveInstances.add(other);

    // Its clients are sent there (it claims), not claimed here in a race with it.
    RefusedException sent = refused(() -> settled(wp.registry.find(id.toString())));
    assertThat(sent.reason()).isEqualTo(ErrorReason.ROOM_MOVED);
    assertThat(sent.details())
        .containsEntry("owner_address", other + ":50051")
        .containsEntry("owner_epoch", "2");
    assertThat(wp.store.rooms.get(id).owner().orElseThrow().instanceId()).isEqualTo("gone");

    // If the pick never claims it (this instance's view may be wrong), this one does after the
    // grace.
    wp.time.advance(RoomRegistry.CLAIM_GRACE);
    Room claimed = wp.find(room);
    assertThat(wp.store.rooms.get(id).owner())
        .hasValue(new RoomOwner(RoomFixture.HERE.id(), RoomFixture.HERE.address(), 3));
    assertThat(wp.join(claimed, ALICE).refusal).isNull();
  }

  @Test
  void aWriteNoRetryCanMendFailsAtOnceAndItsWaiterIsTold() {
    Room room = wp.create(ALICE, Visibility.PRIVATE);
    wp.join(room, ALICE);
    wp.store.writes.set(0);
    wp.store.refusalsLeft.set(1);

    try (CapturedLog log = CapturedLog.of(RoomWriter.class)) {
      assertRefused(() -> settled(room.rotateInvite(ALICE)), ErrorReason.STORAGE_UNAVAILABLE);

      assertThat(log.at(Level.ERROR))
          .singleElement()
          .satisfies(e -> assertThat(e.getFormattedMessage()).contains("after 1 attempt(s)"));
    }
    assertThat(wp.store.writes).hasValue(1);
    // Nothing left to wait for: the room may retire.
    wp.time.settle();
    assertThat(room.writesSettled()).isTrue();
  }

  @Test
  void aWriteIsTriedAtMostTheConfiguredTimesThenFailsForGood() {
    try (RoomFixture quick =
        new RoomFixture(
            RoomConfig.builder()
                .writeRetry(Backoff.doubling(Duration.ofMillis(1), Duration.ofMillis(5)), 4)
                .build())) {
      Room room = quick.create(ALICE, Visibility.PRIVATE);
      quick.join(room, ALICE);
      quick.store.writes.set(0);
      quick.store.failuresLeft.set(1_000);

      try (CapturedLog log = CapturedLog.of(RoomWriter.class)) {
        CompletionStage<String> rotated = room.rotateInvite(ALICE);
        // Three backoffs under 1, 2 and 4 ms: the fourth try is the last.
        quick.time.advance(Duration.ofSeconds(1));
        assertRefused(() -> settled(rotated), ErrorReason.STORAGE_UNAVAILABLE);

        assertThat(log.at(Level.WARN)).hasSize(3);
        assertThat(log.at(Level.ERROR)).hasSize(1);
      }
      assertThat(quick.store.writes).hasValue(4);
      assertThat(room.writesSettled()).isTrue();
    }
  }

  @Test
  void coHostsModerateViewersButNotEachOtherAndNobodyModeratesTheHost() {
    Room room = wp.create(ALICE, Visibility.PUBLIC);
    wp.join(room, ALICE);
    wp.join(room, BOB);
    RecordingSink chiara = wp.join(room, CHIARA);
    done(room.command(ALICE, role(RoleCommand.newBuilder().setGrantCohost("bob"))));
    done(room.command(ALICE, role(RoleCommand.newBuilder().setGrantCohost("chiara"))));

    assertRefused(
        () -> room.command(BOB, role(RoleCommand.newBuilder().setKick("chiara"))),
        ErrorReason.NOT_HOST);
    assertRefused(
        () -> room.command(BOB, role(RoleCommand.newBuilder().setKick("alice"))),
        ErrorReason.INVALID_TARGET);
    assertRefused(
        () -> room.command(BOB, role(RoleCommand.newBuilder().setKick("nobody"))),
        ErrorReason.MEMBER_NOT_FOUND);

    done(room.command(ALICE, role(RoleCommand.newBuilder().setRevokeCohost("chiara"))));
    done(room.command(BOB, role(RoleCommand.newBuilder().setKick("chiara"))));
    assertThat(chiara.refusal.reason()).isEqualTo(ErrorReason.KICKED_FROM_ROOM);
  }

  @Test
  void theHostLeavingHandsTheRoomToTheLongestPresentCoHost() {
    Room room = wp.create(ALICE, Visibility.PUBLIC);
    RecordingSink alice = wp.join(room, ALICE);
    RecordingSink bob = wp.join(room, BOB);
    wp.join(room, CHIARA);
    done(room.command(ALICE, role(RoleCommand.newBuilder().setGrantCohost("chiara"))));

    room.leave(alice.subscriber);

    assertThat(alice.finished).isTrue();
    var last = bob.frames.getLast();
    assertThat(last.getRoleChanged().getUserId()).isEqualTo("chiara");
    assertThat(last.getRoleChanged().getRole()).isEqualTo(Role.HOST);
  }

  @Test
  void aSmallPrivatePartyWaitsForABufferingViewerAndAPublicOneNeverStalls() {
    Room party =
        wp.create(
            ALICE,
            io.watchparty.proto.v1.RoomSettings.newBuilder()
                .setVisibility(Visibility.PRIVATE)
                .setWaitForBuffering(true)
                .build());
    RecordingSink alice = wp.join(party, ALICE);
    done(party.command(ALICE, play()));

    party.buffering(alice.subscriber, buffering(true));
    var waiting = alice.frames.getLast().getPlaybackChanged();
    assertThat(waiting.getCause()).isEqualTo(PlaybackChanged.Cause.BUFFERING_WAIT);
    assertThat(waiting.getState().getPlaying()).isFalse();
    party.buffering(alice.subscriber, buffering(false));
    var resumed = alice.frames.getLast().getPlaybackChanged();
    assertThat(resumed.getCause()).isEqualTo(PlaybackChanged.Cause.BUFFERING_RESUME);
    assertThat(resumed.getState().getPlaying()).isTrue();

    Room open =
        wp.create(
            ALICE,
            io.watchparty.proto.v1.RoomSettings.newBuilder()
                .setVisibility(Visibility.PUBLIC)
                .setWaitForBuffering(true)
                .build());
    RecordingSink viewer = wp.join(open, ALICE);
    done(open.command(ALICE, play()));
    open.buffering(viewer.subscriber, buffering(true));
    assertThat(viewer.frames.getLast().hasPlaybackChanged())
        .as("a public party plays on")
        .isFalse();
  }

  @Test
  void aMemberBackWithinTheGracePeriodKeepsTheirPlaceAndOthersHearNothing() {
    Room room = wp.create(ALICE, Visibility.PUBLIC);
    RecordingSink bob = wp.join(room, BOB);
    RecordingSink alice = wp.join(room, ALICE);
    int before = bob.frames.size();

    room.disconnected(alice.subscriber);
    assertThat(bob.frames.getLast().getNotice().getCode()).isEqualTo(NoticeCode.HOST_DISCONNECTED);
    wp.join(room, ALICE);

    assertThat(bob.kinds().subList(before, bob.frames.size()))
        .containsExactly(KindCase.NOTICE, KindCase.NOTICE)
        .doesNotContain(KindCase.MEMBER_LEFT, KindCase.MEMBER_JOINED);
    assertThat(bob.frames.getLast().getNotice().getCode()).isEqualTo(NoticeCode.HOST_RECONNECTED);
    assertThat(room.presentMemberCount()).isEqualTo(2);
  }

  @Test
  void aLargeRoomSendsThrottledCountsInsteadOfEachJoin() {
    try (RoomFixture large =
        new RoomFixture(
            RoomConfig.builder()
                .presenceDetailLimit(2)
                .presenceInterval(Duration.ofMillis(50))
                .build())) {
      Room room = large.create(ALICE, Visibility.PUBLIC);
      RecordingSink alice = large.join(room, ALICE);
      for (int i = 0; i < 5; i++) {
        large.join(room, RoomFixture.user("viewer" + i, "FR"));
      }

      large.time.advance(Duration.ofMillis(50));
      assertThat(alice.frames.getLast().getPresence().getMemberCount()).isEqualTo(6);
      assertThat(alice.kinds()).filteredOn(k -> k == KindCase.MEMBER_JOINED).hasSizeLessThan(2);
      assertThat(alice.kinds()).filteredOn(k -> k == KindCase.PRESENCE).hasSizeLessThan(5);
    }
  }

  /** A relay stream joined to {@code room}, serving nobody yet. */
  private RecordingSink relay(RoomFixture fixture, Room room) {
    RecordingSink sink = new RecordingSink(1024);
    sink.subscriber =
        settled(
            room.join(
                RoomFixture.RELAY,
                sink,
                io.watchparty.proto.v1.Join.newBuilder()
                    .setRoomId(room.id().toString())
                    .setAsRelay(true)
                    .build()));
    return sink;
  }

  private static io.watchparty.proto.v1.RelayAudience serving(
      long count, List<String> removed, io.watchparty.server.auth.Identity... added) {
    var audience = io.watchparty.proto.v1.RelayAudience.newBuilder().setViewerCount(count);
    for (var who : added) {
      audience
          .addAddedUserIds(who.userId())
          .addAddedViewers(
              io.watchparty.proto.v1.RelayedViewer.newBuilder()
                  .setUserId(who.userId())
                  .setDisplayName(who.displayName())
                  .setRegion(who.region()));
    }
    return audience.addAllRemovedUserIds(removed).build();
  }

  /**
   * The counts a room keeps as its roster changes (instead of a pass over every relayed viewer per
   * join): each person once, whether they watch by stream, through a relay, or both; a viewer
   * within their grace period listed but not counted.
   */
  @Test
  void presenceCountsEachPersonOnceAsTheyComeAndGoByStreamAndRelay() {
    try (RoomFixture quick =
        new RoomFixture(
            RoomConfig.builder()
                .presenceDetailLimit(0)
                .reconnectGrace(Duration.ofMinutes(5))
                .build())) {
      Room room = quick.create(ALICE, Visibility.PUBLIC);
      quick.join(room, ALICE);
      RecordingSink relay = relay(quick, room);
      room.relayAudience(relay.subscriber, serving(2, List.of(), BOB, CHIARA));
      assertThat(room.presentMemberCount()).isEqualTo(3);

      RecordingSink bobByStream = quick.join(room, BOB); // also by stream: still one person
      assertThat(room.presentMemberCount()).isEqualTo(3);

      room.leave(bobByStream.subscriber); // leaves as a member: still here through the relay
      room.relayAudience(relay.subscriber, serving(1, List.of("chiara")));
      assertThat(room.presentMemberCount())
          .as("alice, bob, and chiara, listed within her grace period")
          .isEqualTo(3);
      assertThat(quick.join(room, RoomFixture.user("erin", "FR")).snapshot().getMemberCount())
          .as("counted: alice, erin, and bob through the relay; not chiara, whom no relay serves")
          .isEqualTo(3);

      room.relayAudience(relay.subscriber, serving(2, List.of(), CHIARA)); // back within grace
      assertThat(room.presentMemberCount()).isEqualTo(4);
      settled(room.leaveParty(CHIARA));
      assertThat(room.presentMemberCount()).isEqualTo(3);
    }
  }

  @Test
  void aViewerARelayServesIsAMemberLikeAnyOther() {
    Room room =
        wp.create(
            ALICE,
            io.watchparty.proto.v1.RoomSettings.newBuilder()
                .setVisibility(Visibility.PRIVATE)
                .setWaitForBuffering(true)
                .build());
    RecordingSink alice = wp.join(room, ALICE);
    RecordingSink relay = relay(wp, room);
    settled(room.authorizeViewer(CHIARA, room.inviteToken().orElseThrow()));
    room.relayAudience(relay.subscriber, serving(1, List.of(), CHIARA));

    // Announced and listed, with the name and region the relay passed on.
    var joined =
        alice.frames.stream()
            .filter(f -> f.hasMemberJoined())
            .reduce((first, second) -> second)
            .orElseThrow()
            .getMemberJoined()
            .getMember();
    assertThat(joined.getUserId()).isEqualTo("chiara");
    assertThat(joined.getDisplayName()).isEqualTo("Chiara");
    assertThat(wp.join(room, BOB, room.inviteToken().orElseThrow()).snapshot().getMembersList())
        .extracting(io.watchparty.proto.v1.Member::getUserId)
        .containsExactly("alice", "bob", "chiara"); // members, then viewers relays serve
    wp.availability.put(
        "local", new TitleAvailability("local", Map.of("FR", LicenceWindow.ALWAYS)));
    assertThat(room.countUnableToWatch(ALICE, "local").toCompletableFuture().join())
        .as("chiara (IT) is counted")
        .isEqualTo(1);

    // Their buffering holds up a small private party, as a member's does.
    done(room.command(ALICE, play()));
    room.buffering(
        relay.subscriber,
        io.watchparty.proto.v1.BufferingReport.newBuilder()
            .setBuffering(true)
            .setViewerUserId("chiara")
            .build());
    assertThat(
            alice.frames.stream()
                .filter(f -> f.hasPlaybackChanged())
                .reduce((first, second) -> second)
                .orElseThrow()
                .getPlaybackChanged()
                .getCause())
        .isEqualTo(PlaybackChanged.Cause.BUFFERING_WAIT);

    // They may become host, and command as one.
    done(room.command(ALICE, role(RoleCommand.newBuilder().setTransferHost("chiara"))));
    assertThat(alice.kinds()).contains(KindCase.ROLE_CHANGED);
    done(room.command(CHIARA, pause()));

    // A closed tab is no leave (they keep their place for the grace period); leaving is.
    room.relayAudience(relay.subscriber, serving(0, List.of("chiara")));
    assertThat(alice.kinds()).doesNotContain(KindCase.MEMBER_LEFT);
    room.leaveParty(CHIARA).toCompletableFuture().join();
    assertThat(alice.frames)
        .filteredOn(f -> f.hasMemberLeft())
        .extracting(f -> f.getMemberLeft().getUserId(), f -> f.getMemberLeft().getReason())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                "chiara", io.watchparty.proto.v1.MemberLeft.Reason.LEFT));
    assertThat(
            alice.frames.stream()
                .filter(f -> f.hasRoleChanged())
                .reduce((first, second) -> second)
                .orElseThrow()
                .getRoleChanged()
                .getUserId())
        .as("the host role passes on when the relayed host goes")
        .isEqualTo("alice");
    assertThat(wp.store.applied)
        .filteredOn(RoomChange.MembershipSet.class::isInstance)
        .extracting(
            c -> ((RoomChange.MembershipSet) c).userId(),
            c -> ((RoomChange.MembershipSet) c).member())
        .contains(
            org.assertj.core.groups.Tuple.tuple("chiara", true),
            org.assertj.core.groups.Tuple.tuple("chiara", false));
  }

  @Test
  void aRelayThatReconnectsWithinTheGracePeriodChangesNothingForItsViewers() {
    try (RoomFixture quick =
        new RoomFixture(RoomConfig.builder().reconnectGrace(Duration.ofMillis(300)).build())) {
      Room room = quick.create(ALICE, Visibility.PUBLIC);
      RecordingSink alice = quick.join(room, ALICE);
      RecordingSink relay = relay(quick, room);
      room.relayAudience(relay.subscriber, serving(1, List.of(), CHIARA));
      int before = alice.frames.size();

      room.disconnected(relay.subscriber);
      RecordingSink again = relay(quick, room);
      room.relayAudience(again.subscriber, serving(1, List.of(), CHIARA));
      assertThat(alice.kinds().subList(before, alice.frames.size()))
          .as("no leave, no join")
          .doesNotContain(KindCase.MEMBER_LEFT, KindCase.MEMBER_JOINED);

      room.disconnected(again.subscriber);
      quick.time.advance(Duration.ofMillis(299));
      assertThat(alice.kinds().subList(before, alice.frames.size()))
          .as("still within the grace period")
          .doesNotContain(KindCase.MEMBER_LEFT);
      quick.time.advance(Duration.ofMillis(1));
      assertThat(alice.frames.getLast().getMemberLeft().getReason())
          .isEqualTo(io.watchparty.proto.v1.MemberLeft.Reason.TIMED_OUT);
      assertThat(room.presentMemberCount()).isEqualTo(1);
    }
  }

  private static io.watchparty.proto.v1.BufferingReport buffering(boolean buffering) {
    return io.watchparty.proto.v1.BufferingReport.newBuilder().setBuffering(buffering).build();
  }

  /** The call throws the refusal, or answers with a stage that fails with it. */
  private static void assertRefused(Callable<?> call, ErrorReason reason) {
    assertThat(refused(call).reason()).isEqualTo(reason);
  }

  /** The refusal {@code call} throws, or completes its answer with. */
  private static RefusedException refused(Callable<?> call) {
    AtomicReference<RefusedException> refusal = new AtomicReference<>();
    assertThatThrownBy(
            () -> {
              if (call.call() instanceof CompletionStage<?> answer) {
                answer.toCompletableFuture().join();
              }
            })
        .satisfies(
            thrown ->
                assertThat(thrown instanceof CompletionException ? thrown.getCause() : thrown)
                    .isInstanceOfSatisfying(RefusedException.class, refusal::set));
    return refusal.get();
  }
}
