package io.watchparty.server.rpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.watchparty.proto.v1.AccountServiceGrpc;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.auth.TokenService;
import io.watchparty.server.refusal.RefusedException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Verifies the {@code authorization: Bearer <JWT>} metadata of every call (except the open
 * services: health, reflection, demo tokens) and makes the {@link Identity} available through
 * {@link #currentIdentity()}. A call without a valid token is refused by throwing a {@link
 * RefusedException} from {@code interceptCall}, so an interceptor that maps refusals to statuses
 * must run before this one. A call with more than one {@code authorization} value is refused
 * ({@code TOKEN_INVALID}) rather than run as whichever token one of them names, and a relay account
 * is refused every call but its own ({@code NOT_A_VIEWER}).
 */
public final class AuthInterceptor implements ServerInterceptor {
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final Context.Key<Identity> IDENTITY = Context.key("watchparty-identity");
  private static final String BEARER = "Bearer ";

  /**
   * What a relay account (the web bridge's) may call: its relay streams (joined {@code as_relay}:
   * {@code Room} refuses any other join), the server clock, and its own account. Everything a
   * viewer does, the bridge does under that viewer's own token.
   */
  private static final Set<String> RELAY_METHODS =
      Set.of(
          RoomServiceGrpc.getConnectMethod().getFullMethodName(),
          RoomServiceGrpc.getGetServerTimeMethod().getFullMethodName(),
          AccountServiceGrpc.getGetAccountMethod().getFullMethodName());

  private final TokenService tokens;
  private final Set<String> openServices;

  /**
   * @param openServices fully qualified service names callable without a token
   */
  public AuthInterceptor(TokenService tokens, Set<String> openServices) {
    this.tokens = Objects.requireNonNull(tokens);
    this.openServices = Set.copyOf(openServices);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (openServices.contains(call.getMethodDescriptor().getServiceName())) {
      return next.startCall(call, headers);
    }
    // A refusal propagates to the server's error interceptor, which ends the call with it.
    Identity identity = tokens.verify(bearerToken(headers));
    if (identity.relay()
        && !RELAY_METHODS.contains(call.getMethodDescriptor().getFullMethodName())) {
      throw new RefusedException(
          ErrorReason.NOT_A_VIEWER,
          "a relay account only relays rooms; it cannot act as a viewer",
          Map.of("method", call.getMethodDescriptor().getFullMethodName()));
    }
    return Contexts.interceptCall(
        Context.current().withValue(IDENTITY, identity), call, headers, next);
  }

  private static String bearerToken(Metadata headers) {
    Iterable<String> values = headers.getAll(AUTHORIZATION);
    List<String> all = new ArrayList<>();
    if (values != null) {
      values.forEach(all::add);
    }
    if (all.size() > 1) {
      // Metadata.get would take the last value: the call would run as whichever token came last.
      throw new RefusedException(
          ErrorReason.TOKEN_INVALID,
          "the call carries "
              + all.size()
              + " 'authorization' metadata values; send exactly one 'Bearer <token>'",
          Map.of("authorization_values", Integer.toString(all.size())));
    }
    String header = all.isEmpty() ? null : all.getFirst();
    if (header == null || header.isBlank()) {
      throw new RefusedException(
          ErrorReason.TOKEN_MISSING, "the call needs 'authorization: Bearer <token>' metadata");
    }
    if (!header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      throw new RefusedException(
          ErrorReason.TOKEN_INVALID, "the authorization metadata must use the Bearer scheme");
    }
    return header.substring(BEARER.length()).trim();
  }

  /** The caller of the current call; present in every call that passed this interceptor. */
  public static Identity currentIdentity() {
    return Optional.ofNullable(IDENTITY.get())
        .orElseThrow(
            () -> new IllegalStateException("no identity: the call did not pass AuthInterceptor"));
  }
}
