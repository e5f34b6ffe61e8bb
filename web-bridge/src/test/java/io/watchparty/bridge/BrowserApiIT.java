package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.helidon.json.JsonObject;
import io.helidon.json.JsonValue;
import io.watchparty.server.auth.DemoUsers;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The browser JSON API, endpoint by endpoint, against the real server and Cassandra: what each
 * answers, and each refusal's status and reason.
 */
class BrowserApiIT {
  @RegisterExtension static final Platform platform = Platform.builder().build();

  private static void assertError(HttpResponse<String> response, int status, String reason) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("application/json; charset=UTF-8");
    JsonObject body = Browser.parse(response.body());
    assertThat(body.stringValue("error")).hasValue(reason);
    assertThat(body.stringValue("message").orElseThrow()).isNotBlank();
  }

  private static String roomIdOf(JsonObject created) {
    return created.objectValue("room").orElseThrow().stringValue("roomId").orElseThrow();
  }

  private static String publicRoom(Browser host) {
    return roomIdOf(
        host.ok(
            "/api/rooms",
            "{\"titleId\":\"sintel\",\"name\":\"Open party\",\"settings\":{\"visibility\":\"PUBLIC\"}}"));
  }

  @Test
  void demoSignInSetsAnHttpOnlySameSiteCookieAndNamesTheAccount() {
    try (Browser browser = Browser.anonymous(platform)) {
      HttpResponse<String> response = browser.post("/api/session", "{\"demoUser\":\"hiro\"}");
      assertThat(response.statusCode()).isEqualTo(200);
      String cookie = response.headers().firstValue("Set-Cookie").orElseThrow();
      assertThat(cookie)
          .startsWith("wp_session=")
          .contains("HttpOnly")
          .contains("SameSite=Strict")
          .contains("Path=/");
      JsonObject account = Browser.parse(response.body());
      assertThat(account.stringValue("userId")).hasValue("hiro");
      assertThat(account.stringValue("region")).hasValue("JP");
      assertThat(browser.ok("/api/session").stringValue("displayName")).hasValue("Hiro");

      assertThat(browser.delete("/api/session").statusCode()).isEqualTo(204);
      assertError(browser.get("/api/session"), 401, "NOT_SIGNED_IN");
    }
  }

  @Test
  void aBearerTokenIsCheckedByTheServerBeforeItBecomesASession() {
    try (Browser browser = Browser.anonymous(platform)) {
      String token = platform.token("gabriela");
      assertThat(browser.ok("/api/session", "{\"token\":\"" + token + "\"}").stringValue("region"))
          .hasValue("BR");
      assertThat(browser.ok("/api/session").stringValue("userId")).hasValue("gabriela");
    }
    try (Browser forger = Browser.anonymous(platform)) {
      String forged = platform.token("gabriela").replaceAll(".$", "A").replaceAll("..$", "xx");
      assertError(
          forger.post("/api/session", "{\"token\":\"" + forged + "\"}"), 401, "TOKEN_INVALID");
      assertError(forger.post("/api/session", "{\"token\":\"not a token\"}"), 401, "TOKEN_INVALID");
      assertError(forger.post("/api/session", "{}"), 400, "FIELD_MISSING");
      assertError(
          forger.post("/api/session", "{\"demoUser\":\"nobody\"}"), 404, "DEMO_USER_NOT_FOUND");
      assertError(
          forger.post("/api/session", "{\"demoUser\":\"web-bridge\"}"), 403, "NOT_A_VIEWER");
      // The relay credential itself, sent as a token, is no viewer either.
      assertError(
          forger.post("/api/session", "{\"token\":\"" + platform.token("web-bridge") + "\"}"),
          403,
          "NOT_A_VIEWER");
      assertError(forger.get("/api/session"), 401, "NOT_SIGNED_IN");
    }
  }

  @Test
  void aSessionCookieWhoseTokenExpiredIsNoSessionAtAll() {
    String expired =
        platform
            .server()
            .tokens()
            .issue(DemoUsers.find("bob").orElseThrow(), Duration.ofMinutes(-5));
    try (Browser browser = Browser.anonymous(platform)) {
      HttpResponse<String> response =
          browser.send(
              HttpRequest.newBuilder(platform.uri("/api/session"))
                  .header("Cookie", "wp_session=" + expired)
                  .GET());

      assertError(response, 401, "NOT_SIGNED_IN");
      assertThat(Browser.parse(response.body()).stringValue("message").orElseThrow())
          .contains("sign in again");
    }
  }

  @Test
  void aBodyIsStrictJsonInUtf8AndNoTextIsStoredAltered() {
    try (Browser anonymous = Browser.anonymous(platform);
        Browser alice = platform.browser("alice")) {
      assertError(anonymous.post("/api/session", "{demoUser:\"bob\"}"), 400, "MALFORMED_JSON");
      assertError(anonymous.post("/api/session", "{'demoUser':'bob'}"), 400, "MALFORMED_JSON");
      assertError(anonymous.get("/api/session"), 401, "NOT_SIGNED_IN");
      String roomId = publicRoom(alice);

      HttpResponse<String> badBytes =
          alice.send(
              HttpRequest.newBuilder(platform.uri("/api/rooms/" + roomId + "/chat"))
                  .header("Content-Type", "application/json")
                  .header(CrossSiteGuard.HEADER, "1")
                  .POST(
                      HttpRequest.BodyPublishers.ofByteArray(
                          new byte[] {
                            '{',
                            '"',
                            't',
                            'e',
                            'x',
                            't',
                            '"',
                            ':',
                            '"',
                            (byte) 0xC3,
                            (byte) 0x28,
                            '"',
                            '}'
                          })));
      assertError(badBytes, 400, "INVALID_UTF8");
      HttpResponse<String> loneSurrogate =
          alice.post(
              "/api/rooms/" + roomId + "/chat",
              "{\"clientMessageId\":\"s-1\",\"text\":\"half \\ud800 a pair\"}");
      assertError(loneSurrogate, 400, "INVALID_UTF8");
      assertThat(
              Browser.parse(loneSurrogate.body())
                  .objectValue("metadata")
                  .orElseThrow()
                  .stringValue("field"))
          .hasValue("text");
      assertThat(alice.ok("/api/rooms/" + roomId + "/chat").arrayValue("messages"))
          .as("nothing was stored")
          .satisfiesAnyOf(
              m -> assertThat(m).isEmpty(), m -> assertThat(m.get().values()).isEmpty());
    }
  }

  @Test
  void demoUsersListEveryViewerWithRegionAndSubscriptionButNotTheRelay() {
    try (Browser browser = Browser.anonymous(platform)) {
      List<JsonValue> users =
          browser.ok("/api/demo-users").arrayValue("users").orElseThrow().values();
      List<String> ids =
          users.stream().map(u -> u.asObject().stringValue("userId").orElseThrow()).toList();
      assertThat(ids).contains("alice", "dmitri", "hiro").doesNotContain("web-bridge");
      JsonObject dmitri =
          users.stream()
              .map(JsonValue::asObject)
              .filter(u -> u.stringValue("userId").orElseThrow().equals("dmitri"))
              .findFirst()
              .orElseThrow();
      assertThat(dmitri.booleanValue("subscribed")).hasValue(false);
      assertThat(dmitri.stringValue("region")).hasValue("DE");
    }
  }

  @Test
  void theCatalogAndTheDirectorySayWhetherTheCallerCanWatch() {
    try (Browser alice = platform.browser("alice");
        Browser hiro = platform.browser("hiro")) {
      String metropolis =
          roomIdOf(
              alice.ok(
                  "/api/rooms",
                  "{\"titleId\":\"metropolis\",\"name\":\"Silent night\",\"settings\":{\"visibility\":\"PUBLIC\"}}"));
      JsonObject title =
          hiro.ok("/api/titles").arrayValue("titles").orElseThrow().values().stream()
              .map(JsonValue::asObject)
              .filter(
                  t ->
                      t.objectValue("title")
                          .orElseThrow()
                          .stringValue("titleId")
                          .orElseThrow()
                          .equals("metropolis"))
              .findFirst()
              .orElseThrow();
      assertThat(title.booleanValue("canWatch")).hasValue(false);
      assertThat(title.stringValue("region")).hasValue("JP");

      JsonObject listed =
          hiro.ok("/api/rooms?pageSize=100").arrayValue("rooms").orElseThrow().values().stream()
              .map(JsonValue::asObject)
              .filter(r -> r.stringValue("roomId").orElseThrow().equals(metropolis))
              .findFirst()
              .orElseThrow();
      assertThat(listed.booleanValue("canWatch")).hasValue(false);
      assertError(hiro.get("/api/rooms?pageSize=abc"), 400, "MALFORMED_QUERY");
      assertError(hiro.get("/api/rooms?pageSize=1000"), 400, "PAGE_SIZE_OUT_OF_RANGE");
      assertError(
          hiro.post("/api/rooms/" + metropolis + "/join", "{}"),
          412,
          "TITLE_NOT_AVAILABLE_IN_REGION");
    }
  }

  @Test
  void aPrivateRoomIsJoinedWithItsInviteAndDescribedOnlyToThoseWhoHaveIt() {
    try (Browser alice = platform.browser("alice");
        Browser bob = platform.browser("bob");
        Browser emma = platform.browser("emma")) {
      JsonObject created =
          alice.ok(
              "/api/rooms",
              "{\"titleId\":\"sintel\",\"name\":\"Just us\",\"settings\":{\"visibility\":\"PRIVATE\"}}");
      String roomId = roomIdOf(created);
      String invite = created.stringValue("inviteToken").orElseThrow();
      assertThat(created.stringValue("shareLink"))
          .hasValue(platform.uri("/rooms/" + roomId) + "#invite=" + invite);

      assertError(emma.get("/api/rooms/" + roomId), 404, "ROOM_NOT_FOUND");
      assertError(emma.post("/api/rooms/" + roomId + "/join", "{}"), 403, "INVITE_TOKEN_INVALID");
      assertError(
          emma.post("/api/rooms/" + roomId + "/join", "{\"inviteToken\":\"guessed\"}"),
          403,
          "INVITE_TOKEN_INVALID");

      JsonObject grant =
          bob.ok("/api/rooms/" + roomId + "/join", "{\"inviteToken\":\"" + invite + "\"}");
      assertThat(grant.stringValue("role")).hasValue("VIEWER");
      assertThat(grant.stringValue("userId")).hasValue("bob");
      assertThat(bob.ok("/api/rooms/" + roomId).stringValue("name")).hasValue("Just us");

      JsonObject rotated = alice.ok("/api/rooms/" + roomId + "/invite", "{}");
      assertThat(rotated.stringValue("inviteToken").orElseThrow()).isNotEqualTo(invite);
      assertError(bob.post("/api/rooms/" + roomId + "/invite", "{}"), 403, "NOT_HOST");
      assertError(
          emma.post("/api/rooms/" + roomId + "/join", "{\"inviteToken\":\"" + invite + "\"}"),
          403,
          "INVITE_TOKEN_INVALID");
    }
  }

  @Test
  void subscriptionIsNeededToHostAndToJoin() {
    try (Browser alice = platform.browser("alice");
        Browser dmitri = platform.browser("dmitri")) {
      String roomId = publicRoom(alice);
      assertError(
          dmitri.post("/api/rooms/" + roomId + "/join", "{}"), 403, "SUBSCRIPTION_INACTIVE");
      assertError(
          dmitri.post(
              "/api/rooms",
              "{\"titleId\":\"sintel\",\"name\":\"Mine\",\"settings\":{\"visibility\":\"PUBLIC\"}}"),
          403,
          "SUBSCRIPTION_INACTIVE");
    }
  }

  @Test
  void yourPartiesListWhatYouHostOrJoinedUntilYouLeave() {
    try (Browser farid = platform.browser("farid");
        Browser gabriela = platform.browser("gabriela")) {
      String roomId = publicRoom(farid);
      gabriela.ok("/api/rooms/" + roomId + "/join", "{}");
      SseProbe watching = gabriela.events(roomId);
      watching.next("snapshot");
      java.util.function.Function<Browser, List<String>> parties =
          browser ->
              browser.ok("/api/my-rooms").arrayValue("rooms").orElseThrow().values().stream()
                  .map(r -> ((JsonObject) r).stringValue("roomId").orElseThrow())
                  .toList();
      assertThat(parties.apply(farid)).contains(roomId);
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(parties.apply(gabriela)).contains(roomId));

      assertThat(gabriela.post("/api/rooms/" + roomId + "/leave", "{}").statusCode())
          .isEqualTo(204);
      assertThat(watching.next("ended").json().stringValue("reason")).hasValue("LEFT");
      assertThat(parties.apply(gabriela)).doesNotContain(roomId);
    }
  }

  @Test
  void commandsRunUnderTheCallersOwnRole() {
    try (Browser alice = platform.browser("alice");
        Browser bob = platform.browser("bob")) {
      String roomId = publicRoom(alice);
      SseProbe host = alice.events(roomId);
      host.next("snapshot");
      bob.ok("/api/rooms/" + roomId + "/join", "{}");
      SseProbe viewer = bob.events(roomId);
      viewer.next("snapshot");

      JsonObject accepted =
          alice.ok("/api/rooms/" + roomId + "/commands", "{\"playback\":{\"play\":{}}}");
      assertThat(Long.parseLong(accepted.stringValue("effectiveAtMs").orElseThrow()))
          .isGreaterThan(0);
      assertError(
          bob.post("/api/rooms/" + roomId + "/commands", "{\"playback\":{\"pause\":{}}}"),
          403,
          "NOT_HOST_OR_COHOST");
      assertError(
          alice.post(
              "/api/rooms/" + roomId + "/commands",
              "{\"playback\":{\"seek\":{\"positionMs\":\"-5\"}}}"),
          400,
          "SEEK_OUT_OF_RANGE");
      assertError(
          alice.post(
              "/api/rooms/" + roomId + "/commands", "{\"playback\":{\"setRate\":{\"rate\":9}}}"),
          400,
          "RATE_OUT_OF_RANGE");

      JsonObject unable = alice.ok("/api/rooms/" + roomId + "/unable-to-watch?titleId=metropolis");
      assertThat(unable.stringValue("unableToWatch")).hasValue("0");

      alice.ok("/api/rooms/" + roomId + "/commands", "{\"role\":{\"grantCohost\":\"bob\"}}");
      assertThat(
              viewer
                  .next("role_changed")
                  .json()
                  .objectValue("roleChanged")
                  .orElseThrow()
                  .stringValue("role"))
          .hasValue("COHOST");
      bob.ok("/api/rooms/" + roomId + "/commands", "{\"playback\":{\"pause\":{}}}");
    }
  }

  @Test
  void chatIsStoredOnceForARetryAndPagedBack() {
    try (Browser alice = platform.browser("alice");
        Browser chiara = platform.browser("chiara")) {
      String roomId = publicRoom(alice);
      chiara.ok("/api/rooms/" + roomId + "/join", "{}");
      SseProbe stream = chiara.events(roomId);
      stream.next("snapshot");

      JsonObject first =
          chiara.ok(
              "/api/rooms/" + roomId + "/chat",
              "{\"clientMessageId\":\"c-1\",\"text\":\"ciao <b>tutti</b>\"}");
      JsonObject retried =
          chiara.ok(
              "/api/rooms/" + roomId + "/chat",
              "{\"clientMessageId\":\"c-1\",\"text\":\"ciao <b>tutti</b>\"}");
      assertThat(retried.stringValue("messageId")).isEqualTo(first.stringValue("messageId"));
      assertThat(stream.next("chat").json().objectValue("chat").orElseThrow().stringValue("text"))
          .hasValue("ciao <b>tutti</b>");

      List<JsonValue> history =
          chiara
              .ok("/api/rooms/" + roomId + "/chat?pageSize=10")
              .arrayValue("messages")
              .orElseThrow()
              .values();
      assertThat(history).hasSize(1);
      assertError(
          chiara.post(
              "/api/rooms/" + roomId + "/chat", "{\"clientMessageId\":\"c-2\",\"text\":\"   \"}"),
          400,
          "CHAT_TEXT_EMPTY");
      assertError(
          alice.post(
              "/api/rooms/" + roomId + "/chat", "{\"clientMessageId\":\"a-1\",\"text\":\"hi\"}"),
          412,
          "NOT_JOINED");

      HttpResponse<String> limited = null;
      for (int i = 0; i < 10 && (limited == null || limited.statusCode() == 200); i++) {
        limited =
            chiara.post(
                "/api/rooms/" + roomId + "/chat",
                "{\"clientMessageId\":\"burst-" + i + "\",\"text\":\"" + i + "\"}");
      }
      assertError(limited, 429, "RATE_LIMITED");
      assertThat(Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow()))
          .isPositive();

      assertThat(
              chiara.post("/api/rooms/" + roomId + "/reactions", "{\"emoji\":\"🍿\"}").statusCode())
          .isEqualTo(204);
      assertThat(
              stream
                  .next("reactions")
                  .json()
                  .objectValue("reactions")
                  .orElseThrow()
                  .objectValue("counts")
                  .orElseThrow()
                  .stringValue("🍿"))
          .hasValue("1");
      assertError(
          chiara.post("/api/rooms/" + roomId + "/reactions", "{\"emoji\":\"x\"}"),
          400,
          "UNKNOWN_EMOJI");
    }
  }

  @Test
  void malformedRequestsAreRefusedWithTheirOwnReasons() {
    try (Browser alice = platform.browser("alice")) {
      String roomId = publicRoom(alice);
      assertError(alice.post("/api/rooms/" + roomId + "/chat", "{not json"), 400, "MALFORMED_JSON");
      assertError(
          alice.post("/api/rooms/" + roomId + "/chat", "{\"text\":\"hi\",\"html\":\"<b>\"}"),
          400,
          "UNKNOWN_FIELD");
      assertError(alice.post("/api/rooms/not-a-room/chat", "{}"), 400, "MALFORMED_ID");
      assertError(alice.get("/api/rooms/123/events"), 400, "MALFORMED_ID");
      assertError(
          alice.send(
              HttpRequest.newBuilder(platform.uri("/api/rooms/" + roomId + "/chat"))
                  .header("Content-Type", "text/plain")
                  .header(CrossSiteGuard.HEADER, "1")
                  .POST(HttpRequest.BodyPublishers.ofString("hello"))),
          415,
          "UNSUPPORTED_MEDIA_TYPE");
      assertError(
          alice.post(
              "/api/rooms/" + roomId + "/chat",
              "{\"clientMessageId\":\"x\",\"text\":\"" + "a".repeat(20_000) + "\"}"),
          413,
          "BODY_TOO_LARGE");
      assertError(alice.get("/api/rooms/" + UUID.randomUUID()), 404, "ROOM_NOT_FOUND");
    }
  }

  @Test
  void aCrossSiteRequestIsRefused() {
    try (Browser alice = platform.browser("alice")) {
      String body =
          "{\"titleId\":\"sintel\",\"name\":\"Forged\",\"settings\":{\"visibility\":\"PUBLIC\"}}";
      // A form another site posts: no custom header.
      assertError(
          alice.send(
              HttpRequest.newBuilder(platform.uri("/api/rooms"))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(body))),
          403,
          "CROSS_SITE_REQUEST");
      // A fetch from another origin, even with the header.
      assertError(
          alice.send(
              HttpRequest.newBuilder(platform.uri("/api/rooms"))
                  .header("Content-Type", "application/json")
                  .header(CrossSiteGuard.HEADER, "1")
                  .header("Origin", "https://evil.example")
                  .POST(HttpRequest.BodyPublishers.ofString(body))),
          403,
          "CROSS_SITE_REQUEST");
    }
  }

  @Test
  void theTimeEndpointAnswersInTheServersClock() {
    try (Browser browser = Browser.anonymous(platform)) {
      // The test, the server and the bridge share this machine's clock.
      double before = System.currentTimeMillis();
      HttpResponse<String> answer = browser.get("/api/time");
      double after = System.currentTimeMillis();
      // Plain decimals, as every other answer writes its numbers: no exponent form.
      assertThat(answer.body())
          .matches("\\{\"receiveMs\":\\d+(\\.\\d+)?,\"sendMs\":\\d+(\\.\\d+)?}");
      JsonObject time = Browser.parse(answer.body());
      double receive = time.numberValue("receiveMs").orElseThrow().doubleValue();
      double send = time.numberValue("sendMs").orElseThrow().doubleValue();
      assertThat(receive).isBetween(before - 5, after + 5);
      assertThat(send).isBetween(receive, after + 5);
    }
  }

  @Test
  void thePagesAreServedWithAStrictContentSecurityPolicy() {
    try (Browser browser = Browser.anonymous(platform)) {
      HttpResponse<String> home = browser.get("/");
      if (home.statusCode() == 200) {
        assertThat(home.headers().firstValue("Content-Security-Policy").orElseThrow())
            .contains("script-src 'self'");
        assertThat(home.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
      }
      assertError(browser.get("/media/../../etc/passwd"), 404, "NOT_FOUND");
    }
  }

  @Test
  void oddRequestsThatUsedToFailTheServerAreRefusedAsTheClientsFault() {
    try (Browser alice = platform.browser("alice")) {
      HttpResponse<String> overflowingRange =
          alice.send(
              HttpRequest.newBuilder(platform.uri("/media/sintel.mp4"))
                  .header("Range", "bytes=0-99999999999999999999")
                  .GET());
      assertError(overflowingRange, 416, "RANGE_NOT_SATISFIABLE");

      String room =
          "{\"titleId\":\"sintel\",\"name\":\"Padded\",\"settings\":{\"visibility\":\"PUBLIC\"}}";
      String padded = room + " ".repeat(JsonBodies.MAX_BODY - room.length());
      HttpResponse<String> exactlyAtTheLimit = alice.post("/api/rooms", padded);
      assertThat(exactlyAtTheLimit.statusCode()).as(exactlyAtTheLimit.body()).isEqualTo(200);
      assertError(alice.post("/api/rooms", padded + " "), 413, "BODY_TOO_LARGE");
    }
  }
}
