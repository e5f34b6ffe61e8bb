package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.stub.StreamObserver;
import io.helidon.json.JsonObject;
import io.watchparty.bridge.relay.RelaySettings;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.GetRoomRequest;
import io.watchparty.proto.v1.HostLeavePolicy;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.Leave;
import io.watchparty.proto.v1.RoleCommand;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.catalog.LicenceWindow;
import io.watchparty.server.testing.PrometheusText;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Browsers' event streams through the bridge, against the real server and Cassandra: one upstream
 * stream per room, exact Last-Event-ID resumes, authorization before the first event, and streams
 * that end for good (kick, ban, leave) answered 204 or refused on reconnect.
 */
class EventStreamsIT {
  // Small buffers, so that "too old" and "too slow" are reached with few events.
  private static final int EVENT_BUFFER = 16;

  @RegisterExtension
  static final Platform platform =
      Platform.builder()
          .bridge(
              settings ->
                  settings.withRelay(
                      new RelaySettings(
                          EVENT_BUFFER,
                          RelaySettings.DEFAULTS.viewerQueue(),
                          Duration.ofMillis(500),
                          Duration.ofMillis(100),
                          Duration.ofSeconds(2))))
          .build();

  private static String memberOf(SseProbe.Event joined) {
    return joined
        .json()
        .objectValue("memberJoined")
        .flatMap(j -> j.objectValue("member"))
        .flatMap(m -> m.stringValue("userId"))
        .orElse("");
  }

  static String createRoom(Browser host, String visibility) {
    JsonObject created =
        host.ok(
            "/api/rooms",
            "{\"titleId\":\"sintel\",\"name\":\"Test party\",\"settings\":{\"visibility\":\""
                + visibility
                + "\"}}");
    return created.objectValue("room").orElseThrow().stringValue("roomId").orElseThrow();
  }

  static void seek(Browser host, String roomId, long positionMs) {
    host.ok(
        "/api/rooms/" + roomId + "/commands",
        "{\"playback\":{\"seek\":{\"positionMs\":\"" + positionMs + "\"}}}");
  }

  /** Waits until the server counts {@code count} members, browsers included. */
  private static void awaitMemberCount(String roomId, long count) {
    await()
        .untilAsserted(
            () ->
                assertThat(
                        platform
                            .grpcAs("alice")
                            .getRoom(GetRoomRequest.newBuilder().setRoomId(roomId).build())
                            .getMemberCount())
                    .isEqualTo(count));
  }

  /** The bridge's {@code watchparty_bridge_upstream_opened} counter, from its Prometheus page. */
  private static long upstreamStreamsOpened() {
    String metrics = platform.bridgeMetrics();
    assertThat(metrics).containsPattern("(?m)^watchparty_bridge_upstream_opened_total[{ ]");
    return (long) PrometheusText.sum(metrics, "watchparty_bridge_upstream_opened_total", Map.of());
  }

  /** The bridge's {@code watchparty_bridge_resumes_snapshot} counter. */
  private static long resumesBySnapshot() {
    String metrics = platform.bridgeMetrics();
    return (long) PrometheusText.sum(metrics, "watchparty_bridge_resumes_snapshot_total", Map.of());
  }

  /** Whether a snapshot or watchability event says its browser may watch. */
  private static Optional<Boolean> canWatchIn(SseProbe.Event event) {
    return event.json().objectValue(event.name()).orElseThrow().booleanValue("canWatch");
  }

  @Test
  void browserUsersAreListedMembersAndTheirBufferingHoldsUpASmallPrivateParty() {
    try (Browser alice = platform.browser("alice");
        Browser bob = platform.browser("bob")) {
      JsonObject created =
          alice.ok(
              "/api/rooms",
              "{\"titleId\":\"sintel\",\"name\":\"Just us\",\"settings\":"
                  + "{\"visibility\":\"PRIVATE\",\"waitForBuffering\":true}}");
      String roomId = created.objectValue("room").orElseThrow().stringValue("roomId").orElseThrow();
      String invite = created.stringValue("inviteToken").orElseThrow();
      SseProbe host = alice.events(roomId);
      host.next("snapshot");
      assertThat(
              bob.post("/api/rooms/" + roomId + "/buffering", "{\"buffering\":true}").statusCode())
          .as("no stream yet")
          .isEqualTo(409);

      bob.ok("/api/rooms/" + roomId + "/join", "{\"inviteToken\":\"" + invite + "\"}");
      SseProbe viewer = bob.events(roomId);
      JsonObject snapshot = viewer.next("snapshot").json().objectValue("snapshot").orElseThrow();
      List<String> listed =
          snapshot.arrayValue("members").orElseThrow().values().stream()
              .map(m -> ((JsonObject) m).stringValue("userId").orElseThrow())
              .toList();
      // The relay names bob to the server as his stream opens: everyone hears him join. His own
      // stream's snapshot is built when its writer gets to it, which may be after the server
      // counted him: then the snapshot lists him, else the join follows it.
      assertThat(listed).contains("alice").isSubsetOf("alice", "bob");
      if (!listed.contains("bob")) {
        assertThat(
                viewer
                    .next("member_joined")
                    .json()
                    .objectValue("memberJoined")
                    .orElseThrow()
                    .objectValue("member")
                    .orElseThrow()
                    .stringValue("userId"))
            .hasValue("bob");
      }
      JsonObject bobJoined =
          host.next(e -> e.name().equals("member_joined") && memberOf(e).contains("bob")).json();
      assertThat(
              bobJoined
                  .objectValue("memberJoined")
                  .orElseThrow()
                  .objectValue("member")
                  .orElseThrow()
                  .stringValue("displayName"))
          .as("with the name from bob's grant")
          .hasValue("Bob");

      alice.ok("/api/rooms/" + roomId + "/commands", "{\"playback\":{\"play\":{}}}");
      host.next("playback_changed");
      assertThat(
              bob.post("/api/rooms/" + roomId + "/buffering", "{\"buffering\":true}").statusCode())
          .isEqualTo(204);
      JsonObject waiting =
          host.next("playback_changed").json().objectValue("playbackChanged").orElseThrow();
      assertThat(waiting.stringValue("cause")).hasValue("BUFFERING_WAIT");
      assertThat(
              bob.post("/api/rooms/" + roomId + "/buffering", "{\"buffering\":false}").statusCode())
          .isEqualTo(204);
      JsonObject resumed =
          host.next("playback_changed").json().objectValue("playbackChanged").orElseThrow();
      assertThat(resumed.stringValue("cause")).hasValue("BUFFERING_RESUME");
    }
  }

  @Test
  void anOversizedFieldFromOneBrowserIsRefusedAloneAndOtherBrowsersStreamsGoOn() {
    try (Browser alice = platform.browser("alice");
        Browser bob = platform.browser("bob")) {
      String roomId =
          alice
              .ok(
                  "/api/rooms",
                  "{\"titleId\":\"sintel\",\"name\":\"Steady\",\"settings\":{\"visibility\":\"PUBLIC\"}}")
              .objectValue("room")
              .orElseThrow()
              .stringValue("roomId")
              .orElseThrow();
      SseProbe host = alice.events(roomId);
      host.next("snapshot");

      HttpResponse<String> refused =
          bob.post(
              "/api/rooms",
              "{\"titleId\":\""
                  + "t".repeat(6_000)
                  + "\",\"name\":\"Too long\","
                  + "\"settings\":{\"visibility\":\"PUBLIC\"}}");

      assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
      assertThat(Browser.parse(refused.body()).stringValue("error")).hasValue("MALFORMED_ID");
      assertThat(refused.body()).hasSizeLessThan(1_000);
      alice.ok("/api/rooms/" + roomId + "/commands", "{\"playback\":{\"play\":{}}}");
      assertThat(host.next("playback_changed").name()).isEqualTo("playback_changed");
      assertThat(host.closed()).isFalse();
    }
  }

  @Test
  void aLicenceWindowClosingDuringThePartyIsToldToTheBrowsersOfThatRegion() {
    var availability = platform.server().availability();
    var before = availability.of("sintel").join().window("IT");
    assertThat(before).as("sintel is licensed in Italy in the demo catalog").isPresent();
    try (Browser alice = platform.browser("alice");
        Browser chiara = platform.browser("chiara")) {
      String roomId = createRoom(alice, "PUBLIC");
      SseProbe host = alice.events(roomId);
      host.next("snapshot");
      chiara.ok("/api/rooms/" + roomId + "/join", "{}");
      SseProbe italy = chiara.events(roomId);
      // The relay names chiara to the server as her stream opens: her own snapshot either lists
      // her already, or her member_joined follows it. Either way the server counts her watching.
      JsonObject snapshot = italy.next("snapshot").json().objectValue("snapshot").orElseThrow();
      boolean listed =
          snapshot.arrayValue("members").orElseThrow().values().stream()
              .anyMatch(m -> ((JsonObject) m).stringValue("userId").orElse("").equals("chiara"));
      if (!listed) {
        italy.next(e -> e.name().equals("member_joined") && memberOf(e).equals("chiara"));
      }

      availability.clear("sintel", "IT").toCompletableFuture().join(); // closes now, here

      JsonObject told = italy.next("watchability").json().objectValue("watchability").orElseThrow();
      assertThat(told.booleanValue("canWatch")).hasValue(false);
      assertThat(told.stringValue("region")).hasValue("IT");
      assertThat(told.stringValue("reason")).hasValue("TITLE_NOT_AVAILABLE_IN_REGION");
      assertThat(told.stringValue("userId").orElse(""))
          .as("the relay's addressing stays inside")
          .isEmpty();
    } finally {
      availability.set("sintel", "IT", before.orElseThrow()).toCompletableFuture().join();
    }
  }

  @Test
  void aBrowserGetsItsSnapshotWithItsRoleAndTheSyncPolicyThenLiveEventsWithIds() {
    try (Browser alice = platform.browser("alice")) {
      String roomId = createRoom(alice, "PUBLIC");
      SseProbe stream = alice.events(roomId);

      assertThat(stream.status()).isEqualTo(200);
      assertThat(stream.response().headers().firstValue("Content-Type"))
          .hasValue("text/event-stream");
      SseProbe.Event snapshot = stream.next();
      assertThat(snapshot.name()).isEqualTo("snapshot");
      assertThat(stream.retry()).isEqualTo("2000");
      JsonObject body = snapshot.json().objectValue("snapshot").orElseThrow();
      assertThat(body.stringValue("yourRole")).hasValue("HOST");
      assertThat(body.booleanValue("canWatch")).hasValue(true);
      JsonObject policy = body.objectValue("syncPolicy").orElseThrow();
      assertThat(policy.stringValue("ignoreBelowMs")).hasValue("40");
      assertThat(policy.stringValue("seekAboveMs")).hasValue("1000");
      assertThat(snapshot.id()).isEqualTo(Long.toString(snapshot.sequence()));

      seek(alice, roomId, 42_000);
      SseProbe.Event changed = stream.next("playback_changed");
      assertThat(changed.positionMs()).isEqualTo(42_000);
      assertThat(Long.parseLong(changed.id())).isGreaterThan(Long.parseLong(snapshot.id()));
    }
  }

  @Test
  void manyBrowsersInOneRoomShareOneUpstreamStreamAndCountAsMembers() {
    List<Browser> browsers = new ArrayList<>();
    try (Browser alice = platform.browser("alice")) {
      String roomId = createRoom(alice, "PUBLIC");
      // Counted as streams opened, not open: other tests' relays close beside this one as their
      // browsers' connections are noticed gone (at the next keep-alive), so the open count drifts.
      long before = upstreamStreamsOpened();
      List<SseProbe> streams = new ArrayList<>();
      for (String user : List.of("alice", "bob", "chiara", "emma", "farid")) {
        for (int tab = 0; tab < 2; tab++) {
          Browser browser = platform.browser(user);
          browsers.add(browser);
          browser.ok("/api/rooms/" + roomId + "/join", "{}");
          SseProbe stream = browser.events(roomId);
          stream.next("snapshot");
          streams.add(stream);
        }
      }

      assertThat(upstreamStreamsOpened()).isEqualTo(before + 1);
      awaitMemberCount(roomId, 5); // five people, in two tabs each
      seek(alice, roomId, 7_000);
      for (SseProbe stream : streams) {
        assertThat(stream.next("playback_changed").positionMs()).isEqualTo(7_000);
      }
    } finally {
      browsers.forEach(Browser::close);
    }
  }

  @Test
  void aReconnectWithLastEventIdGetsExactlyTheMissedEventsInOrder() {
    try (Browser alice = platform.browser("alice");
        Browser bob = platform.browser("bob")) {
      String roomId = createRoom(alice, "PUBLIC");
      SseProbe host = alice.events(roomId); // keeps the relay open while bob is away
      host.next("snapshot");
      bob.ok("/api/rooms/" + roomId + "/join", "{}");
      SseProbe first = bob.events(roomId);
      first.next("snapshot");
      seek(alice, roomId, 1_000);
      String lastSeen = first.next("playback_changed").id();
      first.close();

      for (long position = 2_000; position <= 6_000; position += 1_000) {
        seek(alice, roomId, position);
      }
      SseProbe resumed = bob.events(roomId, lastSeen);

      List<Long> positions = new ArrayList<>();
      long previous = Long.parseLong(lastSeen);
      while (positions.size() < 5) {
        SseProbe.Event event = resumed.next();
        assertThat(event.name()).as("no snapshot on an exact resume").isNotEqualTo("snapshot");
        assertThat(Long.parseLong(event.id())).isEqualTo(previous + 1);
        previous = Long.parseLong(event.id());
        if (event.name().equals("playback_changed")) {
          positions.add(event.positionMs());
        }
      }
      assertThat(positions).containsExactly(2_000L, 3_000L, 4_000L, 5_000L, 6_000L);
    }
  }

  @Test
  void aGapOlderThanTheBufferOrAnUnknownIdIsAnsweredWithAFreshSnapshot() {
    try (Browser alice = platform.browser("alice")) {
      String roomId = createRoom(alice, "PUBLIC");
      SseProbe host = alice.events(roomId);
      String firstId = host.next("snapshot").id();
      for (int i = 1; i <= EVENT_BUFFER + 4; i++) {
        seek(alice, roomId, i * 1_000L);
      }
      SseProbe.Event last =
          host.next(
              e ->
                  e.name().equals("playback_changed")
                      && e.positionMs() == (EVENT_BUFFER + 4) * 1_000L);

      SseProbe tooOld = alice.events(roomId, firstId);
      SseProbe.Event snapshot = tooOld.next();
      assertThat(snapshot.name()).isEqualTo("snapshot");
      // The room as it is now: at the last seek, or later when a throttled presence count (a timer
      // of its own) came after it; the position below says no seek is missing.
      assertThat(Long.parseLong(snapshot.id())).isGreaterThanOrEqualTo(Long.parseLong(last.id()));
      assertThat(
              snapshot
                  .json()
                  .objectValue("snapshot")
                  .orElseThrow()
                  .objectValue("playback")
                  .orElseThrow()
                  .stringValue("positionMs"))
          .hasValue(Long.toString((EVENT_BUFFER + 4) * 1_000L));

      SseProbe unknown = alice.events(roomId, "999999");
      assertThat(unknown.next().name()).isEqualTo("snapshot");
      SseProbe garbage = alice.events(roomId, "not-a-number");
      assertThat(garbage.next().name()).isEqualTo("snapshot");
    }
  }

  @Test
  void resumesAfterABridgeRestartAreAnsweredWithASnapshotAndCountedEach() {
    try (Browser alice = platform.browser("alice")) {
      String roomId = createRoom(alice, "PUBLIC");
      SseProbe before = alice.events(roomId);
      before.next("snapshot");
      seek(alice, roomId, 1_000);
      String lastSeen = before.next("playback_changed").id();
      before.close();

      for (int restart = 1; restart <= 2; restart++) {
        // The new bridge's relay for the room has no view and no buffer yet: a snapshot must do.
        platform.restartBridge();
        long counted = resumesBySnapshot();

        SseProbe resumed = alice.events(roomId, lastSeen);

        assertThat(resumed.next().name()).isEqualTo("snapshot");
        assertThat(resumesBySnapshot()).isEqualTo(counted + 1);
      }
    }
  }

  @Test
  void aBridgeStartedAfterAnotherReportsItsOwnMeters() {
    // The platform's bridge is a replacement of the first one (a deployment in one JVM): its
    // gauges must read its own state, and the replaced bridge's must be gone.
    platform.restartBridge();
    try (Browser alice = platform.browser("alice")) {
      String roomId = createRoom(alice, "PUBLIC");
      SseProbe tab = alice.events(roomId);
      tab.next("snapshot");

      String metrics = platform.bridgeMetrics();
      assertThat(PrometheusText.sum(metrics, "watchparty_bridge_sse_clients", Map.of()))
          .as("the one open tab, counted by this bridge alone")
          .isEqualTo(1);
      assertThat(metrics.lines().filter(l -> l.startsWith("watchparty_bridge_sse_clients{")))
          .hasSize(1)
          .allSatisfy(line -> assertThat(line).contains("bridge=\""));
    }
  }

  @Test
  void tabsTheUserClosedFreeTheirSlotsWithinTheRefusalsRetryAfter() {
    // This platform's bridge holds the default number of streams per user.
    int limit = BridgeSettings.DEFAULT_USER_STREAMS;
    try (Browser gabriela = platform.browser("gabriela")) {
      String roomId = createRoom(gabriela, "PUBLIC");
      List<SseProbe> tabs = new ArrayList<>();
      for (int i = 0; i < limit; i++) {
        SseProbe tab = gabriela.events(roomId);
        tab.next("snapshot");
        tabs.add(tab);
      }
      SseProbe refused = gabriela.events(roomId);
      refused.assertStatus(503);
      long retryAfterSeconds =
          Long.parseLong(refused.response().headers().firstValue("Retry-After").orElseThrow());

      tabs.forEach(SseProbe::close);

      // What Retry-After says: once it has passed, a tab the user closed no longer holds a slot.
      await()
          .atMost(Duration.ofSeconds(retryAfterSeconds))
          .pollInterval(Duration.ofMillis(100))
          .untilAsserted(() -> gabriela.events(roomId).assertStatus(200));
    }
  }

  @Test
  void aRefusedViewerGetsAnHttpErrorAndNotASingleEvent() {
    try (Browser alice = platform.browser("alice");
        Browser bob = platform.browser("bob");
        Browser hiro = platform.browser("hiro")) {
      String privateRoom = createRoom(alice, "PRIVATE");
      SseProbe noInvite = bob.events(privateRoom);
      assertThat(noInvite.status()).isEqualTo(403);

      JsonObject created =
          alice.ok(
              "/api/rooms",
              "{\"titleId\":\"metropolis\",\"name\":\"Silent\",\"settings\":{\"visibility\":\"PUBLIC\"}}");
      String metropolis =
          created.objectValue("room").orElseThrow().stringValue("roomId").orElseThrow();
      var refused = hiro.get("/api/rooms/" + metropolis + "/events");
      assertThat(refused.statusCode()).isEqualTo(412);
      assertThat(Browser.parse(refused.body()).stringValue("error"))
          .hasValue("TITLE_NOT_AVAILABLE_IN_REGION");
      assertThat(
              Browser.parse(refused.body())
                  .objectValue("metadata")
                  .orElseThrow()
                  .stringValue("region"))
          .hasValue("JP");

      try (Browser nobody = Browser.anonymous(platform)) {
        var anonymous = nobody.get("/api/rooms/" + metropolis + "/events");
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(Browser.parse(anonymous.body()).stringValue("error")).hasValue("NOT_SIGNED_IN");
      }
    }
  }

  @Test
  void aKickedBrowserIsToldWhyAndItsReconnectIsAnsweredNoContent() {
    try (Browser alice = platform.browser("alice");
        Browser bob = platform.browser("bob")) {
      String roomId = createRoom(alice, "PUBLIC");
      SseProbe host = alice.events(roomId);
      host.next("snapshot");
      bob.ok("/api/rooms/" + roomId + "/join", "{}");
      SseProbe viewer = bob.events(roomId);
      String seenId = viewer.next("snapshot").id();
      awaitMemberCount(roomId, 2);

      alice.ok("/api/rooms/" + roomId + "/commands", "{\"role\":{\"kick\":\"bob\"}}");
      assertThat(
              viewer
                  .next("member_left")
                  .json()
                  .objectValue("memberLeft")
                  .orElseThrow()
                  .stringValue("reason"))
          .hasValue("KICKED");
      SseProbe.Event ended = viewer.next();
      assertThat(ended.name()).isEqualTo("ended");
      assertThat(ended.json().stringValue("reason")).hasValue("KICKED");
      await().until(viewer::closed);

      SseProbe reconnect = bob.events(roomId, seenId);
      assertThat(reconnect.status()).isEqualTo(204);

      // A deliberate join lets a kicked user back in (a ban would not).
      bob.ok("/api/rooms/" + roomId + "/join", "{}");
      assertThat(bob.events(roomId).next().name()).isEqualTo("snapshot");
    }
  }

  @Test
  void aBannedBrowserIsEndedAndRefusedOnReconnect() {
    try (Browser alice = platform.browser("alice");
        Browser chiara = platform.browser("chiara")) {
      String roomId = createRoom(alice, "PUBLIC");
      SseProbe host = alice.events(roomId);
      host.next("snapshot");
      chiara.ok("/api/rooms/" + roomId + "/join", "{}");
      SseProbe viewer = chiara.events(roomId);
      viewer.next("snapshot");
      awaitMemberCount(roomId, 2);

      platform
          .grpcAs("alice")
          .sendCommand(
              SendCommandRequest.newBuilder()
                  .setRoomId(roomId)
                  .setCommand(
                      Command.newBuilder().setRole(RoleCommand.newBuilder().setBan("chiara")))
                  .build());
      SseProbe.Event ended = viewer.next("ended");
      assertThat(ended.json().stringValue("reason")).hasValue("BANNED");

      var rejoin = chiara.post("/api/rooms/" + roomId + "/join", "{}");
      assertThat(rejoin.statusCode()).isEqualTo(403);
      assertThat(Browser.parse(rejoin.body()).stringValue("error")).hasValue("BANNED_FROM_ROOM");
      assertThat(chiara.events(roomId).status()).isEqualTo(403);
    }
  }

  @Test
  void leavingEndsEveryTabOfTheUserInTheRoom() {
    try (Browser alice = platform.browser("alice");
        Browser emma = platform.browser("emma")) {
      String roomId = createRoom(alice, "PUBLIC");
      emma.ok("/api/rooms/" + roomId + "/join", "{}");
      SseProbe tab1 = emma.events(roomId);
      SseProbe tab2 = emma.events(roomId);
      tab1.next("snapshot");
      tab2.next("snapshot");

      var left = emma.post("/api/rooms/" + roomId + "/leave", "{}");
      assertThat(left.statusCode()).isEqualTo(204);
      assertThat(tab1.next("ended").json().stringValue("reason")).hasValue("LEFT");
      assertThat(tab2.next("ended").json().stringValue("reason")).hasValue("LEFT");
    }
  }

  @Test
  void aTitleSwitchTellsEachBrowserWhetherItsRegionMayWatchIt() {
    try (Browser alice = platform.browser("alice");
        Browser hiro = platform.browser("hiro")) {
      String roomId = createRoom(alice, "PUBLIC");
      SseProbe host = alice.events(roomId);
      host.next("snapshot");
      hiro.ok("/api/rooms/" + roomId + "/join", "{}");
      SseProbe viewer = hiro.events(roomId);
      assertThat(canWatchIn(viewer.next("snapshot"))).hasValue(true);
      awaitMemberCount(roomId, 2);

      alice.ok(
          "/api/rooms/" + roomId + "/commands",
          "{\"playback\":{\"changeTitle\":{\"titleId\":\"metropolis\"}}}");

      viewer.next("playback_changed");
      SseProbe.Event told = viewer.next("watchability");
      assertThat(told.id()).as("meant for this browser only: no room sequence").isNull();
      JsonObject watchability = told.json().objectValue("watchability").orElseThrow();
      assertThat(watchability.booleanValue("canWatch")).hasValue(false);
      assertThat(watchability.stringValue("region")).hasValue("JP");
      assertThat(watchability.stringValue("reason")).hasValue("TITLE_NOT_AVAILABLE_IN_REGION");

      // Still in the room and its chat, as the rules say.
      assertThat(
              hiro.ok(
                      "/api/rooms/" + roomId + "/chat",
                      "{\"clientMessageId\":\"h-1\",\"text\":\"I will wait\"}")
                  .stringValue("userId"))
          .hasValue("hiro");
      // The host may watch both titles: nothing to tell her (only members who cannot watch the
      // new title, or whose right changed, are told). Hiro's message fences her events.
      List<String> hostSaw = new ArrayList<>();
      for (SseProbe.Event event = host.next(); ; event = host.next()) {
        hostSaw.add(event.name());
        if (event.name().equals("chat")) {
          break;
        }
      }
      assertThat(hostSaw).contains("playback_changed").doesNotContain("watchability");

      // The window opens for Japan: the browser is told, and a tab opened now starts from that
      // answer, not from the one the bridge kept before.
      var availability = platform.server().availability();
      try {
        availability.set("metropolis", "JP", LicenceWindow.ALWAYS).toCompletableFuture().join();
        assertThat(canWatchIn(viewer.next("watchability"))).hasValue(true);
        assertThat(canWatchIn(hiro.events(roomId).next("snapshot"))).hasValue(true);
      } finally {
        availability.clear("metropolis", "JP").toCompletableFuture().join();
      }
    }
  }

  @Test
  void theRoomEndingEndsTheStreams() throws InterruptedException {
    try (Browser farid = platform.browser("farid")) {
      // The host watches in a native app: their leave, with END_ROOM, ends the room.
      var created =
          platform
              .grpcAs("alice")
              .createRoom(
                  CreateRoomRequest.newBuilder()
                      .setTitleId("sintel")
                      .setName("Short")
                      .setSettings(
                          RoomSettings.newBuilder()
                              .setVisibility(Visibility.PUBLIC)
                              .setHostLeavePolicy(HostLeavePolicy.END_ROOM))
                      .build());
      String roomId = created.getRoom().getRoomId();
      LinkedBlockingQueue<ServerMessage> received = new LinkedBlockingQueue<>();
      StreamObserver<ClientMessage> app =
          platform
              .grpc(RoomServiceGrpc::newStub)
              .withCallCredentials(BearerToken.of(platform.token("alice")))
              .connect(
                  new StreamObserver<ServerMessage>() {
                    @Override
                    public void onNext(ServerMessage message) {
                      received.add(message);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                  });
      app.onNext(ClientMessage.newBuilder().setJoin(Join.newBuilder().setRoomId(roomId)).build());
      assertThat(received.poll(20, TimeUnit.SECONDS).hasSnapshot()).isTrue();
      farid.ok("/api/rooms/" + roomId + "/join", "{}");
      SseProbe viewer = farid.events(roomId);
      viewer.next("snapshot");

      app.onNext(ClientMessage.newBuilder().setLeave(Leave.getDefaultInstance()).build());
      app.onCompleted();

      assertThat(viewer.next("room_closed").name()).isEqualTo("room_closed");
      assertThat(viewer.next("ended").json().stringValue("reason")).hasValue("ROOM_CLOSED");
      var again = farid.get("/api/rooms/" + roomId + "/events");
      assertThat(again.statusCode()).isIn(204, 412);
    }
  }
}
