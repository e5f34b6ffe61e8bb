package io.watchparty.bridge;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import java.util.Optional;
import java.util.Set;

/**
 * Refuses state-changing requests that another site's page could make in a user's name. The session
 * cookie is {@code SameSite=Strict} already; on top, every {@code POST}, {@code PUT}, {@code PATCH}
 * and {@code DELETE} must carry the {@value #HEADER} header (a cross-site form cannot set a header,
 * and a cross-site {@code fetch} that sets one needs a CORS preflight, which this bridge never
 * grants) and, when the browser names its {@code Origin}, come from this bridge's own.
 */
final class CrossSiteGuard implements Filter {
  static final String HEADER = "X-WatchParty-Request";
  private static final HeaderName REQUEST_HEADER = HeaderNames.create(HEADER);
  private static final HeaderName SEC_FETCH_SITE = HeaderNames.create("Sec-Fetch-Site");
  private static final Set<Method> CHANGES_STATE =
      Set.of(Method.POST, Method.PUT, Method.PATCH, Method.DELETE);

  @Override
  public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
    if (CHANGES_STATE.contains(req.prologue().method())
        && req.path().path().startsWith("/api/")
        && !sameSite(req)) {
      throw new ApiException(
          Status.FORBIDDEN_403,
          "CROSS_SITE_REQUEST",
          "This request must come from the WatchParty page itself (send the "
              + HEADER
              + " header from this origin).");
    }
    chain.proceed();
  }

  private static boolean sameSite(RoutingRequest req) {
    if (!req.headers().contains(REQUEST_HEADER)) {
      return false;
    }
    Optional<String> fetchSite = header(req, SEC_FETCH_SITE);
    if (fetchSite.isPresent() && fetchSite.get().equals("cross-site")) {
      return false;
    }
    Optional<String> origin = header(req, HeaderNames.ORIGIN);
    if (origin.isEmpty()) {
      return true; // not a browser, or a same-origin GET-like request: the header is what counts
    }
    Optional<String> host = header(req, HeaderNames.HOST);
    String scheme = req.isSecure() ? "https://" : "http://";
    return host.isPresent() && origin.get().equalsIgnoreCase(scheme + host.get());
  }

  private static Optional<String> header(RoutingRequest req, HeaderName name) {
    return req.headers().first(name);
  }
}
