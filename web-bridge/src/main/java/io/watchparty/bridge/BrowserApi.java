package io.watchparty.bridge;

import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaTypes;
import io.helidon.http.Status;
import io.helidon.json.JsonObject;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.watchparty.bridge.Sessions.Session;
import io.watchparty.bridge.relay.EndReason;
import io.watchparty.bridge.relay.RelayHub;
import io.watchparty.proto.v1.AuthorizeViewerRequest;
import io.watchparty.proto.v1.BufferingReport;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.CountUnableToWatchRequest;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.CreateRoomResponse;
import io.watchparty.proto.v1.DemoUser;
import io.watchparty.proto.v1.GetRoomRequest;
import io.watchparty.proto.v1.IssueDemoTokenRequest;
import io.watchparty.proto.v1.IssueDemoTokenResponse;
import io.watchparty.proto.v1.LeaveRoomRequest;
import io.watchparty.proto.v1.ListChatHistoryRequest;
import io.watchparty.proto.v1.ListDemoUsersRequest;
import io.watchparty.proto.v1.ListDemoUsersResponse;
import io.watchparty.proto.v1.ListMyRoomsRequest;
import io.watchparty.proto.v1.ListPublicRoomsRequest;
import io.watchparty.proto.v1.ListTitlesRequest;
import io.watchparty.proto.v1.React;
import io.watchparty.proto.v1.ReactRequest;
import io.watchparty.proto.v1.RotateInviteRequest;
import io.watchparty.proto.v1.RotateInviteResponse;
import io.watchparty.proto.v1.SendChat;
import io.watchparty.proto.v1.SendChatRequest;
import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.ViewerGrant;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The JSON API for what browsers do ({@code /api/...}, documented in {@code web-bridge/README.md}).
 * Every call upstream carries the browser user's own token; the bridge's relay credential is never
 * used on a user's behalf. Handlers run on virtual threads and call the server synchronously, with
 * a deadline; failures become HTTP errors in {@link HttpErrors}. Calls about one room go to the
 * server instance that owns it ({@link RoomCalls}); the others to the configured upstream.
 */
final class BrowserApi implements HttpService {
  private final Upstream upstream;
  private final RoomCalls rooms;
  private final Sessions sessions;
  private final Invites invites;
  private final EndedStreams ended;
  private final RelayHub hub;
  private final UpstreamClock clock;
  private final String about;

  BrowserApi(
      Upstream upstream,
      RoomCalls rooms,
      Sessions sessions,
      Invites invites,
      EndedStreams ended,
      RelayHub hub,
      UpstreamClock clock) {
    this.upstream = upstream;
    this.rooms = rooms;
    this.sessions = sessions;
    this.invites = invites;
    this.ended = ended;
    this.hub = hub;
    this.clock = clock;
    this.about =
        JsonObject.builder()
            .set("service", Main.SERVICE)
            .set("upstream", upstream.address())
            .set("api", "see web-bridge/README.md")
            .build()
            .toString();
  }

  @Override
  public void routing(HttpRules rules) {
    rules
        .get("/", this::about)
        .get("/time", this::time)
        .get("/demo-users", this::demoUsers)
        .post("/session", this::signIn)
        .get("/session", this::whoAmI)
        .delete("/session", this::signOut)
        .get("/titles", this::titles)
        .get("/rooms", this::publicRooms)
        .get("/my-rooms", this::myRooms)
        .post("/rooms", this::createRoom)
        .get("/rooms/{id}", this::room)
        .post("/rooms/{id}/join", this::join)
        .post("/rooms/{id}/commands", this::command)
        .get("/rooms/{id}/unable-to-watch", this::unableToWatch)
        .post("/rooms/{id}/chat", this::sendChat)
        .get("/rooms/{id}/chat", this::chatHistory)
        .post("/rooms/{id}/reactions", this::react)
        .post("/rooms/{id}/buffering", this::buffering)
        .post("/rooms/{id}/invite", this::rotateInvite)
        .post("/rooms/{id}/leave", this::leave);
  }

  private void about(ServerRequest req, ServerResponse res) {
    res.headers().contentType(HttpMediaTypes.JSON_UTF_8);
    res.send(about);
  }

  /**
   * NTP-style samples for the page: when the request came and when the answer left, server clock.
   */
  private void time(ServerRequest req, ServerResponse res) {
    double received = clock.serverNowMs();
    res.headers().contentType(HttpMediaTypes.JSON_UTF_8);
    res.header(HeaderNames.CACHE_CONTROL, "no-store");
    // Formatted by hand: these two numbers are the whole point and must not be rounded. Plain
    // decimals: Double.toString writes 1.79E12 for a time in milliseconds.
    res.send(
        "{\"receiveMs\":" + plain(received) + ",\"sendMs\":" + plain(clock.serverNowMs()) + "}");
  }

  private void demoUsers(ServerRequest req, ServerResponse res) {
    ListDemoUsersResponse all =
        upstream.demoAuth().listDemoUsers(ListDemoUsersRequest.getDefaultInstance());
    JsonBodies.send(
        res,
        ListDemoUsersResponse.newBuilder()
            .addAllUsers(all.getUsersList().stream().filter(u -> !u.getRelay()).toList()));
  }

  private void signIn(ServerRequest req, ServerResponse res) {
    Map<String, String> form = JsonBodies.readFields(req, Set.of("demoUser", "token"));
    if (form.containsKey("demoUser") == form.containsKey("token")) {
      throw new ApiException(
          Status.BAD_REQUEST_400, "FIELD_MISSING", "Send either 'demoUser' or 'token'.");
    }
    String token;
    Optional<Duration> lifetime;
    if (form.containsKey("demoUser")) {
      IssueDemoTokenResponse issued =
          upstream
              .demoAuth()
              .issueDemoToken(
                  IssueDemoTokenRequest.newBuilder().setUserId(form.get("demoUser")).build());
      DemoUser user = issued.getUser();
      if (user.getRelay()) {
        // The relay account is the bridge's own; no browser signs in with it.
        throw new ApiException(
            Status.FORBIDDEN_403,
            "NOT_A_VIEWER",
            "'" + user.getUserId() + "' is not a viewer account.");
      }
      token = issued.getToken();
      lifetime =
          Optional.of(
              Duration.ofMillis(Math.max(0, issued.getExpiresAtMs() - System.currentTimeMillis())));
    } else {
      token = form.get("token");
      lifetime = Optional.empty();
    }
    var account =
        sessions.account(token); // the server verifies the token before it becomes a session
    Sessions.start(req, res, token, lifetime);
    JsonBodies.send(res, account);
  }

  private void whoAmI(ServerRequest req, ServerResponse res) {
    JsonBodies.send(res, sessions.require(req).account());
  }

  private void signOut(ServerRequest req, ServerResponse res) {
    Sessions.end(req, res);
    res.status(Status.NO_CONTENT_204).send();
  }

  private void titles(ServerRequest req, ServerResponse res) {
    Session session = sessions.require(req);
    JsonBodies.send(
        res,
        upstream.catalog(session.credentials()).listTitles(ListTitlesRequest.getDefaultInstance()));
  }

  private void publicRooms(ServerRequest req, ServerResponse res) {
    Session session = sessions.require(req);
    var request = ListPublicRoomsRequest.newBuilder();
    req.query().first("pageToken").ifPresent(request::setPageToken);
    req.query().first("pageSize").ifPresent(size -> request.setPageSize(number("pageSize", size)));
    JsonBodies.send(res, upstream.rooms(session.credentials()).listPublicRooms(request.build()));
  }

  private void createRoom(ServerRequest req, ServerResponse res) {
    Session session = sessions.require(req);
    CreateRoomRequest request = JsonBodies.read(req, CreateRoomRequest.newBuilder());
    CreateRoomResponse created = upstream.rooms(session.credentials()).createRoom(request);
    invites.remember(session.userId(), created.getRoom().getRoomId(), created.getInviteToken());
    JsonBodies.send(res, created);
  }

  private void room(ServerRequest req, ServerResponse res) {
    Session session = sessions.require(req);
    String roomId = RoomIds.of(req);
    GetRoomRequest request =
        GetRoomRequest.newBuilder()
            .setRoomId(roomId)
            .setInviteToken(invites.of(session.userId(), roomId))
            .build();
    JsonBodies.send(res, rooms.rooms(roomId, session.credentials(), s -> s.getRoom(request)));
  }

  /** A deliberate join: authorizes the user, remembers their invite, forgets an earlier end. */
  private void join(ServerRequest req, ServerResponse res) {
    Session session = sessions.require(req);
    String roomId = RoomIds.of(req);
    String invite =
        JsonBodies.readFields(req, Set.of("inviteToken")).getOrDefault("inviteToken", "");
    if (invite.isEmpty()) {
      invite = invites.of(session.userId(), roomId);
    }
    AuthorizeViewerRequest request =
        AuthorizeViewerRequest.newBuilder().setRoomId(roomId).setInviteToken(invite).build();
    ViewerGrant grant = rooms.rooms(roomId, session.credentials(), s -> s.authorizeViewer(request));
    invites.remember(session.userId(), roomId, invite);
    ended.forget(session.userId(), roomId);
    JsonBodies.send(res, grant);
  }

  private void command(ServerRequest req, ServerResponse res) {
    Session session = sessions.require(req);
    String roomId = RoomIds.of(req);
    Command command = JsonBodies.read(req, Command.newBuilder());
    SendCommandRequest request =
        SendCommandRequest.newBuilder().setRoomId(roomId).setCommand(command).build();
    // A command sent again after ROOM_MOVED is not applied twice: the refusal comes before it is
    // stored, and every command sets a state (play, seek to, grant to), none adds to one.
    JsonBodies.send(res, rooms.rooms(roomId, session.credentials(), s -> s.sendCommand(request)));
  }

  private void unableToWatch(ServerRequest req, ServerResponse res) {
    Session session = sessions.require(req);
    String roomId = RoomIds.of(req);
    String titleId = req.query().first("titleId").orElse("");
    CountUnableToWatchRequest request =
        CountUnableToWatchRequest.newBuilder().setRoomId(roomId).setTitleId(titleId).build();
    JsonBodies.send(
        res, rooms.rooms(roomId, session.credentials(), s -> s.countUnableToWatch(request)));
  }

  private void sendChat(ServerRequest req, ServerResponse res) {
    Session session = sessions.require(req);
    String roomId = RoomIds.of(req);
    SendChat message = JsonBodies.read(req, SendChat.newBuilder());
    SendChatRequest request =
        SendChatRequest.newBuilder().setRoomId(roomId).setMessage(message).build();
    // Sent again after ROOM_MOVED under the same client message id: stored and delivered once.
    JsonBodies.send(res, rooms.chat(roomId, session.credentials(), s -> s.sendChat(request)));
  }

  private void chatHistory(ServerRequest req, ServerResponse res) {
    Session session = sessions.require(req);
    String roomId = RoomIds.of(req);
    var request = ListChatHistoryRequest.newBuilder().setRoomId(roomId);
    req.query().first("pageToken").ifPresent(request::setPageToken);
    req.query().first("pageSize").ifPresent(size -> request.setPageSize(number("pageSize", size)));
    JsonBodies.send(
        res, rooms.chat(roomId, session.credentials(), s -> s.listChatHistory(request.build())));
  }

  private void react(ServerRequest req, ServerResponse res) {
    Session session = sessions.require(req);
    String roomId = RoomIds.of(req);
    React reaction = JsonBodies.read(req, React.newBuilder());
    ReactRequest request =
        ReactRequest.newBuilder().setRoomId(roomId).setReaction(reaction).build();
    rooms.chat(roomId, session.credentials(), s -> s.react(request));
    res.status(Status.NO_CONTENT_204).send();
  }

  /** The player is buffering or ready again: {"buffering": true|false}. Needs an open stream. */
  private void buffering(ServerRequest req, ServerResponse res) {
    Session session = sessions.require(req);
    String roomId = RoomIds.of(req);
    BufferingReport report = JsonBodies.read(req, BufferingReport.newBuilder());
    if (!report.getViewerUserId().isEmpty()) {
      throw JsonBodies.unknownField("viewerUserId"); // the bridge names the viewer itself
    }
    if (!hub.buffering(roomId, session.userId(), report.getBuffering())) {
      throw new ApiException(
          Status.CONFLICT_409,
          "NOT_WATCHING",
          "Open the room's event stream first: buffering is reported for a player that watches.");
    }
    res.status(Status.NO_CONTENT_204).send();
  }

  private void rotateInvite(ServerRequest req, ServerResponse res) {
    Session session = sessions.require(req);
    String roomId = RoomIds.of(req);
    JsonBodies.readFields(req, Set.of());
    RotateInviteRequest request = RotateInviteRequest.newBuilder().setRoomId(roomId).build();
    RotateInviteResponse rotated =
        rooms.rooms(roomId, session.credentials(), s -> s.rotateInvite(request));
    invites.remember(session.userId(), roomId, rotated.getInviteToken());
    JsonBodies.send(res, rotated);
  }

  /** The open parties this user hosts or joined and did not leave, newest first. */
  private void myRooms(ServerRequest req, ServerResponse res) {
    Session session = sessions.require(req);
    JsonBodies.send(
        res,
        upstream.rooms(session.credentials()).listMyRooms(ListMyRoomsRequest.getDefaultInstance()));
  }

  /**
   * Leaves the party for good: the server forgets it as one of theirs and tells every relay (their
   * tabs elsewhere end too); this bridge ends the user's streams in the room with LEFT at once.
   */
  private void leave(ServerRequest req, ServerResponse res) {
    Session session = sessions.require(req);
    String roomId = RoomIds.of(req);
    JsonBodies.readFields(req, Set.of());
    LeaveRoomRequest request = LeaveRoomRequest.newBuilder().setRoomId(roomId).build();
    rooms.rooms(roomId, session.credentials(), s -> s.leaveRoom(request));
    hub.endUser(roomId, session.userId(), EndReason.LEFT);
    invites.forget(session.userId(), roomId);
    res.status(Status.NO_CONTENT_204).send();
  }

  private static String plain(double value) {
    return BigDecimal.valueOf(value).toPlainString();
  }

  private static int number(String name, String text) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new ApiException(
          Status.BAD_REQUEST_400, "MALFORMED_QUERY", "'" + name + "' must be a whole number.");
    }
  }
}
