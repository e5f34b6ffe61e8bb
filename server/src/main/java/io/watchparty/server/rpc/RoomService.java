package io.watchparty.server.rpc;

import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.watchparty.proto.ByteArrayMarshaller;
import io.watchparty.proto.v1.AuthorizeViewerRequest;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.ClockPing;
import io.watchparty.proto.v1.ClockPong;
import io.watchparty.proto.v1.CommandAccepted;
import io.watchparty.proto.v1.CountUnableToWatchRequest;
import io.watchparty.proto.v1.CountUnableToWatchResponse;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.CreateRoomResponse;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.GetRoomRequest;
import io.watchparty.proto.v1.LeaveRoomRequest;
import io.watchparty.proto.v1.LeaveRoomResponse;
import io.watchparty.proto.v1.ListMyRoomsRequest;
import io.watchparty.proto.v1.ListMyRoomsResponse;
import io.watchparty.proto.v1.ListPublicRoomsRequest;
import io.watchparty.proto.v1.ListPublicRoomsResponse;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.RotateInviteRequest;
import io.watchparty.proto.v1.RotateInviteResponse;
import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.ViewerGrant;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.refusal.RefusedException;
import io.watchparty.server.room.PublicDirectory;
import io.watchparty.server.room.Room;
import io.watchparty.server.room.RoomRegistry;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * The {@code watchparty.v1.RoomService}: unary room management plus the bidirectional room stream,
 * whose outbound side carries pre-serialized frames (see {@link #serviceDefinition()}).
 */
public final class RoomService implements RoomServiceGrpc.AsyncService {
  private final RoomRegistry rooms;
  private final ShareLinks links;
  private final InstantSource clock;
  private final ErrorMapper errors;
  private final Executor drainExecutor;
  private final int outboxCapacity;

  /** Every room stream not ended yet, so that a stopping server can end them at once. */
  private final Set<Outbox> streams = ConcurrentHashMap.newKeySet();

  /**
   * @param errors maps failures to statuses (for refusals on the stream)
   * @param drainExecutor writes each stream's queued frames; a drain never blocks (it writes only
   *     while the transport is ready), so a few platform threads serve every stream
   * @param outboxCapacity frames queued per stream before it is resynchronized from a snapshot
   */
  public RoomService(
      RoomRegistry rooms,
      ShareLinks links,
      InstantSource clock,
      ErrorMapper errors,
      Executor drainExecutor,
      int outboxCapacity) {
    this.rooms = rooms;
    this.links = links;
    this.clock = clock;
    this.errors = errors;
    this.drainExecutor = drainExecutor;
    this.outboxCapacity = outboxCapacity;
  }

  /**
   * The service definition to register: the generated one, except that Connect sends {@code byte[]}
   * frames, so one serialization of an event serves every receiver, and parses client messages with
   * {@link Utf8Guard#marshaller}, so a string that is not UTF-8 is refused as one message, not the
   * stream ({@link Utf8Guard#guard} leaves that to the stream).
   */
  public ServerServiceDefinition serviceDefinition() {
    ServerServiceDefinition generated = RoomServiceGrpc.bindService(this);
    MethodDescriptor<ClientMessage, byte[]> connect =
        RoomServiceGrpc.getConnectMethod().toBuilder(
                Utf8Guard.marshaller(ClientMessage.getDefaultInstance()), new ByteArrayMarshaller())
            .build();
    ServiceDescriptor.Builder descriptor =
        ServiceDescriptor.newBuilder(RoomServiceGrpc.SERVICE_NAME)
            .setSchemaDescriptor(RoomServiceGrpc.getServiceDescriptor().getSchemaDescriptor());
    List<ServerMethodDefinition<?, ?>> unary =
        generated.getMethods().stream()
            .filter(
                m ->
                    !m.getMethodDescriptor()
                        .getFullMethodName()
                        .equals(connect.getFullMethodName()))
            .toList();
    unary.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
    descriptor.addMethod(connect);
    ServerServiceDefinition.Builder definition =
        ServerServiceDefinition.builder(descriptor.build());
    unary.forEach(definition::addMethod);
    definition.addMethod(
        connect,
        ServerCalls.asyncBidiStreamingCall(
            responses -> {
              var call = (ServerCallStreamObserver<byte[]>) responses;
              call.disableAutoRequest(); // RoomStream asks for each message itself
              var stream =
                  new RoomStream(
                      rooms,
                      AuthInterceptor.currentIdentity(),
                      opened(new Outbox(call, drainExecutor, outboxCapacity, streams::remove)),
                      call::request,
                      clock,
                      errors);
              stream.start();
              return stream;
            }));
    return definition.build();
  }

  private Outbox opened(Outbox outbox) {
    streams.add(outbox);
    return outbox;
  }

  /**
   * Ends every room stream at once with {@code UNAVAILABLE} and {@code SERVER_SHUTTING_DOWN}: the
   * server is stopping, and its clients reconnect now (to another server, or to this one restarted)
   * instead of after the server's drain timeout. Members keep their place for the grace period.
   */
  public void endStreamsForShutdown() {
    var shuttingDown =
        ErrorMapper.toStatusException(
            new RefusedException(
                ErrorReason.SERVER_SHUTTING_DOWN, "the server is shutting down; reconnect"));
    streams.forEach(outbox -> outbox.close(shuttingDown));
  }

  @Override
  public void createRoom(CreateRoomRequest request, StreamObserver<CreateRoomResponse> response) {
    // The host's region may watch the title: creating the room checked it.
    Identity host = AuthInterceptor.currentIdentity();
    Replies.whenDone(
        rooms
            .create(host, request)
            .thenCompose(
                room ->
                    room.info(host.region())
                        .thenApply(
                            info -> {
                              var reply = CreateRoomResponse.newBuilder().setRoom(info);
                              room.inviteToken().ifPresent(reply::setInviteToken);
                              reply.setShareLink(
                                  links.linkTo(room.id().toString(), room.inviteToken()));
                              return reply.build();
                            })),
        response);
  }

  @Override
  public void getRoom(GetRoomRequest request, StreamObserver<RoomInfo> response) {
    Identity who = AuthInterceptor.currentIdentity();
    Replies.whenDone(
        rooms
            .find(request.getRoomId())
            .thenCompose(
                room -> {
                  if (!room.mayDescribeTo(who.userId(), request.getInviteToken())) {
                    // Private rooms are not confirmed to exist to outsiders.
                    throw new RefusedException(
                        ErrorReason.ROOM_NOT_FOUND,
                        "no room " + request.getRoomId(),
                        Map.of("room_id", request.getRoomId()));
                  }
                  return room.info(who.region());
                }),
        response);
  }

  @Override
  public void listPublicRooms(
      ListPublicRoomsRequest request, StreamObserver<ListPublicRoomsResponse> response) {
    var page = PublicDirectory.Request.of(request.getPageSize(), request.getPageToken());
    String region = AuthInterceptor.currentIdentity().region();
    Replies.whenDone(
        rooms
            .publicRooms(region, page)
            .thenApply(
                found -> {
                  var reply = ListPublicRoomsResponse.newBuilder().addAllRooms(found.rooms());
                  found.next().ifPresent(reply::setNextPageToken);
                  return reply.build();
                }),
        response);
  }

  @Override
  public void rotateInvite(
      RotateInviteRequest request, StreamObserver<RotateInviteResponse> response) {
    Identity who = AuthInterceptor.currentIdentity();
    Replies.whenDone(
        rooms
            .find(request.getRoomId())
            .thenCompose(
                room ->
                    room.rotateInvite(who)
                        .thenApply(
                            token ->
                                RotateInviteResponse.newBuilder()
                                    .setInviteToken(token)
                                    .setShareLink(
                                        links.linkTo(room.id().toString(), Optional.of(token)))
                                    .build())),
        response);
  }

  @Override
  public void authorizeViewer(
      AuthorizeViewerRequest request, StreamObserver<ViewerGrant> response) {
    Identity who = AuthInterceptor.currentIdentity();
    Replies.whenDone(
        rooms
            .find(request.getRoomId())
            .thenCompose(room -> room.authorizeViewer(who, request.getInviteToken()))
            .thenApply(
                grant ->
                    grant.toBuilder()
                        .setUserId(who.userId())
                        .setDisplayName(who.displayName())
                        .setRegion(who.region())
                        .build()),
        response);
  }

  @Override
  public void getServerTime(ClockPing request, StreamObserver<ClockPong> response) {
    long receivedAtMs = clock.millis();
    response.onNext(
        ClockPong.newBuilder()
            .setClientSendTimeMs(request.getClientSendTimeMs())
            .setServerReceiveTimeMs(receivedAtMs)
            .setServerSendTimeMs(clock.millis())
            .build());
    response.onCompleted();
  }

  @Override
  public void listMyRooms(
      ListMyRoomsRequest request, StreamObserver<ListMyRoomsResponse> response) {
    Replies.whenDone(
        rooms
            .roomsOf(AuthInterceptor.currentIdentity())
            .thenApply(mine -> ListMyRoomsResponse.newBuilder().addAllRooms(mine).build()),
        response);
  }

  @Override
  public void leaveRoom(LeaveRoomRequest request, StreamObserver<LeaveRoomResponse> response) {
    Identity who = AuthInterceptor.currentIdentity();
    Replies.whenDone(
        rooms
            .find(request.getRoomId())
            .thenCompose(room -> room.leaveParty(who))
            .thenApply(left -> LeaveRoomResponse.getDefaultInstance()),
        response);
  }

  @Override
  public void countUnableToWatch(
      CountUnableToWatchRequest request, StreamObserver<CountUnableToWatchResponse> response) {
    Identity who = AuthInterceptor.currentIdentity();
    Replies.whenDone(
        rooms
            .find(request.getRoomId())
            .thenCompose(
                room ->
                    room.countUnableToWatch(who, request.getTitleId())
                        .thenApply(
                            unable ->
                                CountUnableToWatchResponse.newBuilder()
                                    .setUnableToWatch(unable)
                                    .setMemberCount(room.presentMemberCount())
                                    .build())),
        response);
  }

  @Override
  public void sendCommand(SendCommandRequest request, StreamObserver<CommandAccepted> response) {
    Identity who = AuthInterceptor.currentIdentity();
    CompletionStage<Room> room = rooms.find(request.getRoomId());
    rooms.checkCommandRate(who);
    Replies.whenDone(room.thenCompose(r -> r.command(who, request.getCommand())), response);
  }

  // A page token is an opaque offset into the busiest-first order.
}
