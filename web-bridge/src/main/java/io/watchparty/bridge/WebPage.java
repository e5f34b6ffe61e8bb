package io.watchparty.bridge;

import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.NotFoundException;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.staticcontent.StaticContentService;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The web page: {@code /} (sign in, the public directory, create a party), {@code /rooms/{id}} (the
 * share link: the player, chat and controls), their scripts and styles under {@code /assets}, and
 * the demo media under {@code /media} (with range requests, so that seeking works).
 *
 * <p>Pages go out with a strict Content-Security-Policy: scripts only from this origin and no
 * inline script, so even text that slipped into the page as markup could not run.
 *
 * <p>With {@link BridgeSettings#testHook()} on (browser tests only), each page carries {@link
 * #TEST_HOOK}, and the room page then exposes its state as {@code window.watchparty}.
 */
final class WebPage {
  private static final String CSP =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
          + " media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none';"
          + " frame-ancestors 'none'; form-action 'self'";
  private static final HeaderName CONTENT_SECURITY_POLICY =
      HeaderNames.create("Content-Security-Policy");
  private static final HeaderName REFERRER_POLICY = HeaderNames.create("Referrer-Policy");
  private static final HeaderName CONTENT_TYPE_OPTIONS =
      HeaderNames.create("X-Content-Type-Options");

  private static final HttpMediaType HTML =
      HttpMediaType.create(MediaTypes.TEXT_HTML).withCharset("UTF-8");

  /** What a page's head carries when the test hook is on; the room page looks for it. */
  static final String TEST_HOOK = "<meta name=\"watchparty-test-hook\" content=\"on\">";

  /** The one demo clip every demo title plays (see {@code web-bridge/media/}). */
  static final String DEMO_CLIP = "demo.mp4";

  /** Byte ranges as RFC 9110 writes them, with numbers a long holds. */
  private static final Pattern BYTE_RANGES =
      Pattern.compile(
          "bytes=(\\d{1,15}-\\d{0,15}|-\\d{1,15})(\\s*,\\s*(\\d{1,15}-\\d{0,15}|-\\d{1,15}))*");

  private final Map<String, byte[]> pages = new ConcurrentHashMap<>();
  private final boolean testHook;

  private WebPage(boolean testHook) {
    this.testHook = testHook;
  }

  static void register(HttpRouting.Builder routing, boolean testHook) {
    WebPage page = new WebPage(testHook);
    routing
        .get("/", (req, res) -> page.send("web/index.html", res))
        .get("/rooms/{id}", (req, res) -> page.send("web/room.html", res))
        .register("/assets", StaticContentService.builder("web/assets").build())
        .get("/media/*", WebPage::requireReadableRange)
        // Every demo title plays the same clip; the page maps the film's position onto it. Mapped
        // inside the static content service, so that ranges and conditional requests work as for
        // any file.
        .register(
            "/media",
            StaticContentService.builder("media")
                .pathMapper(WebPage::demoClip)
                .contentType("mp4", MediaTypes.create("video", "mp4"))
                .build());
  }

  /**
   * Refuses a {@code Range} the static content service cannot read (numbers past a long made it
   * fail with a 500 and an error logged), then hands the request on.
   */
  private static void requireReadableRange(ServerRequest req, ServerResponse res) {
    Optional<String> range = req.headers().first(HeaderNames.RANGE);
    if (range.isPresent() && !BYTE_RANGES.matcher(range.get().strip()).matches()) {
      throw new ApiException(
          Status.REQUESTED_RANGE_NOT_SATISFIABLE_416,
          "RANGE_NOT_SATISFIABLE",
          "The Range header must be 'bytes=' and ranges of at most 15-digit numbers.");
    }
    res.next();
  }

  /** {@code /<title>.mp4} is the demo clip; anything else is not there. */
  private static String demoClip(String path) {
    return path.matches("/?[a-z0-9][a-z0-9-]{0,63}\\.mp4") ? DEMO_CLIP : "missing";
  }

  private void send(String resource, ServerResponse res) {
    byte[] html = pages.computeIfAbsent(resource, this::load);
    res.headers().contentType(HTML);
    res.header(CONTENT_SECURITY_POLICY, CSP);
    // A share link may carry an invite; no page sends its address anywhere as a Referer.
    res.header(REFERRER_POLICY, "no-referrer");
    res.header(CONTENT_TYPE_OPTIONS, "nosniff");
    res.header(HeaderNames.CACHE_CONTROL, "no-cache");
    res.send(html);
  }

  private byte[] load(String resource) {
    byte[] html;
    try (InputStream in = WebPage.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new NotFoundException("the page " + resource + " is not in this build");
      }
      html = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return testHook ? withTestHook(resource, html) : html;
  }

  private static byte[] withTestHook(String resource, byte[] html) {
    String page = new String(html, StandardCharsets.UTF_8);
    int head = page.indexOf("<head>");
    if (head < 0) {
      throw new IllegalStateException("the page " + resource + " has no <head> for the test hook");
    }
    int at = head + "<head>".length();
    return (page.substring(0, at) + "\n  " + TEST_HOOK + page.substring(at))
        .getBytes(StandardCharsets.UTF_8);
  }
}
