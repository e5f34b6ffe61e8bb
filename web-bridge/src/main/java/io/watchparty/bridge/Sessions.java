package io.watchparty.bridge;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.grpc.CallCredentials;
import io.grpc.StatusRuntimeException;
import io.helidon.http.SetCookie;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.watchparty.proto.v1.Account;
import io.watchparty.proto.v1.AccountServiceGrpc;
import io.watchparty.proto.v1.GetAccountRequest;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Browser sessions: the {@value #COOKIE} cookie carries the user's bearer token ({@code
 * EventSource} cannot set an Authorization header). It is {@code HttpOnly} (no script reads it),
 * {@code SameSite=Strict} (no other site's page sends it) and, over HTTPS, {@code Secure}. The
 * bridge keeps no session state of its own: the server verifies the token on every call.
 */
final class Sessions {
  static final String COOKIE = "wp_session";

  // A JWT: three base64url parts. Anything else is not worth a round trip to the server.
  private static final Pattern TOKEN =
      Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");
  private static final int MAX_TOKEN = 4096;

  private final AccountServiceGrpc.AccountServiceBlockingStub accounts;
  // Who a token belongs to, as the server said: saves a call per request. Short-lived, so that an
  // expired token is noticed soon (every call under it fails anyway).
  private final Cache<String, Account> accountOfToken =
      Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(Duration.ofMinutes(1)).build();

  Sessions(Upstream upstream) {
    this.accounts = AccountServiceGrpc.newBlockingStub(upstream.channel());
  }

  /** A signed-in browser: its token (never logged) and the account the server read from it. */
  record Session(String token, Account account) {
    CallCredentials credentials() {
      return BearerToken.of(token);
    }

    String userId() {
      return account.getUserId();
    }

    @Override
    public String toString() {
      return "Session[" + account.getUserId() + "]";
    }
  }

  /** The caller's session; 401 NOT_SIGNED_IN without one, the server's refusal for a bad token. */
  Session require(ServerRequest req) {
    String token =
        req.headers()
            .cookies()
            .first(COOKIE)
            .asOptional()
            .filter(Sessions::wellFormed)
            .orElseThrow(
                () -> new ApiException(Status.UNAUTHORIZED_401, "NOT_SIGNED_IN", "Sign in first."));
    try {
      return new Session(token, account(token));
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != io.grpc.Status.Code.UNAUTHENTICATED) {
        throw e;
      }
      // The cookie outlived its token (expired, or signed with a key the server no longer has):
      // to the page that is no session at all, as the README's table says.
      throw new ApiException(
          Status.UNAUTHORIZED_401,
          "NOT_SIGNED_IN",
          "Your sign-in has expired or is no longer valid: sign in again.");
    }
  }

  /**
   * Checks a token with the server and returns its account (the server's refusal otherwise). A
   * relay credential is refused here, on every path a token takes into a session: it serves rooms
   * to browsers and never watches as one.
   */
  Account account(String token) {
    if (!wellFormed(token)) {
      throw new ApiException(
          Status.UNAUTHORIZED_401, "TOKEN_INVALID", "That is not a bearer token.");
    }
    Account account =
        accountOfToken.get(
            token,
            t ->
                accounts
                    .withCallCredentials(BearerToken.of(t))
                    .withDeadlineAfter(5, TimeUnit.SECONDS)
                    .getAccount(GetAccountRequest.getDefaultInstance()));
    if (account.getRelay()) {
      throw new ApiException(
          Status.FORBIDDEN_403,
          "NOT_A_VIEWER",
          "'" + account.getUserId() + "' is a relay account, not a viewer account.");
    }
    return account;
  }

  /**
   * Starts a session: sets the cookie, for {@code lifetime} when known, else for the browser
   * session.
   */
  static void start(
      ServerRequest req, ServerResponse res, String token, Optional<Duration> lifetime) {
    SetCookie.Builder cookie =
        SetCookie.builder(COOKIE, token)
            .path("/")
            .httpOnly(true)
            .sameSite(SetCookie.SameSite.STRICT)
            .secure(req.isSecure());
    lifetime.ifPresent(cookie::maxAge);
    res.headers().addCookie(cookie.build());
  }

  /** Ends the session: the cookie is cleared. */
  static void end(ServerRequest req, ServerResponse res) {
    res.headers()
        .addCookie(
            SetCookie.builder(COOKIE, "")
                .path("/")
                .httpOnly(true)
                .sameSite(SetCookie.SameSite.STRICT)
                .secure(req.isSecure())
                .maxAge(Duration.ZERO)
                .build());
  }

  private static boolean wellFormed(String token) {
    return token.length() <= MAX_TOKEN && TOKEN.matcher(token).matches();
  }
}
