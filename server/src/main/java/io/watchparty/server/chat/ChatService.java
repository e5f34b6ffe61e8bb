package io.watchparty.server.chat;

import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.ListChatHistoryRequest;
import io.watchparty.proto.v1.ListChatHistoryResponse;
import io.watchparty.proto.v1.ReactRequest;
import io.watchparty.proto.v1.ReactResponse;
import io.watchparty.proto.v1.SendChatRequest;
import io.watchparty.server.RefusedException;
import io.watchparty.server.auth.AuthInterceptor;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.room.RoomRegistry;
import io.watchparty.server.rpc.Calls;
import java.util.List;

/**
 * The {@code watchparty.v1.ChatService}: sending for callers without a room stream of their own
 * (the web bridge, under each browser user's token) and paging back through history. Sending here
 * follows exactly the rules of the room stream: the caller must be a member (kicked and banned
 * users are not), and the reply comes once Cassandra has the message. Neither call waits on a
 * thread for Cassandra, except to load a room this server has not loaded yet.
 */
public final class ChatService implements ChatServiceGrpc.AsyncService {
  static final int DEFAULT_PAGE_SIZE = 50;
  static final int MAX_PAGE_SIZE = 100;

  private final RoomRegistry rooms;

  public ChatService(RoomRegistry rooms) {
    this.rooms = rooms;
  }

  /**
   * The service definition to register: the generated one, except that SendChat requests with
   * invalid UTF-8 reach {@link #sendChat} to be refused with a reason (see {@link Utf8Guard}).
   */
  public ServerServiceDefinition serviceDefinition() {
    ServerServiceDefinition generated = ChatServiceGrpc.bindService(this);
    MethodDescriptor<SendChatRequest, ChatMessage> send =
        ChatServiceGrpc.getSendChatMethod().toBuilder(
                Utf8Guard.marshaller(SendChatRequest.getDefaultInstance()),
                ProtoUtils.marshaller(ChatMessage.getDefaultInstance()))
            .build();
    List<ServerMethodDefinition<?, ?>> others =
        generated.getMethods().stream()
            .filter(
                m -> !m.getMethodDescriptor().getFullMethodName().equals(send.getFullMethodName()))
            .toList();
    ServiceDescriptor.Builder descriptor =
        ServiceDescriptor.newBuilder(ChatServiceGrpc.SERVICE_NAME)
            .setSchemaDescriptor(ChatServiceGrpc.getServiceDescriptor().getSchemaDescriptor());
    others.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
    descriptor.addMethod(send);
    ServerServiceDefinition.Builder definition =
        ServerServiceDefinition.builder(descriptor.build());
    others.forEach(definition::addMethod);
    @SuppressWarnings("unchecked")
    ServerMethodDefinition<SendChatRequest, ChatMessage> generatedSend =
        (ServerMethodDefinition<SendChatRequest, ChatMessage>)
            generated.getMethod(send.getFullMethodName());
    definition.addMethod(send, generatedSend.getServerCallHandler());
    return definition.build();
  }

  @Override
  public void sendChat(SendChatRequest request, StreamObserver<ChatMessage> response) {
    Calls.async(
        response,
        () -> {
          Utf8Guard.requireValid(request);
          Identity who = AuthInterceptor.currentIdentity();
          return rooms.find(request.getRoomId()).chat().send(who, request.getMessage());
        });
  }

  @Override
  public void react(ReactRequest request, StreamObserver<ReactResponse> response) {
    Calls.unary(
        response,
        () -> {
          rooms
              .find(request.getRoomId())
              .chat()
              .react(AuthInterceptor.currentIdentity(), request.getReaction());
          return ReactResponse.getDefaultInstance();
        });
  }

  @Override
  public void listChatHistory(
      ListChatHistoryRequest request, StreamObserver<ListChatHistoryResponse> response) {
    Calls.async(
        response,
        () -> {
          Identity who = AuthInterceptor.currentIdentity();
          int pageSize = request.getPageSize() == 0 ? DEFAULT_PAGE_SIZE : request.getPageSize();
          if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
            throw new RefusedException(
                ErrorReason.PAGE_SIZE_OUT_OF_RANGE,
                "page_size must be 1.." + MAX_PAGE_SIZE + ", got " + request.getPageSize());
          }
          return rooms
              .find(request.getRoomId())
              .chat()
              .history(who, request.getPageToken(), pageSize);
        });
  }
}
