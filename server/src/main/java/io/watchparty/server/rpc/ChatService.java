package io.watchparty.server.rpc;

import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.ListChatHistoryRequest;
import io.watchparty.proto.v1.ListChatHistoryResponse;
import io.watchparty.proto.v1.ReactRequest;
import io.watchparty.proto.v1.ReactResponse;
import io.watchparty.proto.v1.SendChatRequest;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.refusal.RefusedException;
import io.watchparty.server.room.RoomRegistry;

/**
 * The {@code watchparty.v1.ChatService}: sending for callers without a room stream of their own
 * (the web bridge, under each browser user's token) and paging back through history. Sending here
 * follows exactly the rules of the room stream: the caller must be a member (kicked and banned
 * users are not), and the reply comes once Cassandra has the message. Neither call waits on a
 * thread for Cassandra, except to load a room this server has not loaded yet.
 */
public final class ChatService extends ChatServiceGrpc.ChatServiceImplBase {
  static final int DEFAULT_PAGE_SIZE = 50;
  static final int MAX_PAGE_SIZE = 100;

  private final RoomRegistry rooms;

  public ChatService(RoomRegistry rooms) {
    this.rooms = rooms;
  }

  @Override
  public void sendChat(SendChatRequest request, StreamObserver<ChatMessage> response) {
    Identity who = AuthInterceptor.currentIdentity();
    Replies.whenDone(
        rooms
            .find(request.getRoomId())
            .thenCompose(room -> room.chat().send(who, request.getMessage())),
        response);
  }

  @Override
  public void react(ReactRequest request, StreamObserver<ReactResponse> response) {
    Identity who = AuthInterceptor.currentIdentity();
    Replies.whenDone(
        rooms
            .find(request.getRoomId())
            .thenApply(
                room -> {
                  room.chat().react(who, request.getReaction());
                  return ReactResponse.getDefaultInstance();
                }),
        response);
  }

  @Override
  public void listChatHistory(
      ListChatHistoryRequest request, StreamObserver<ListChatHistoryResponse> response) {
    Identity who = AuthInterceptor.currentIdentity();
    int pageSize = request.getPageSize() == 0 ? DEFAULT_PAGE_SIZE : request.getPageSize();
    if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw new RefusedException(
          ErrorReason.PAGE_SIZE_OUT_OF_RANGE,
          "page_size must be 1.." + MAX_PAGE_SIZE + ", got " + request.getPageSize());
    }
    Replies.whenDone(
        rooms
            .find(request.getRoomId())
            .thenCompose(room -> room.chat().history(who, request.getPageToken(), pageSize)),
        response);
  }
}
