package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page in real headless Chromiums (Debian's chromium and chromedriver) against the real
 * bridge, gRPC server and Cassandra: people in separate browsers join a party through its share
 * link, watch it in sync, chat, and meet the refusals a real service gives. Each scene leaves a
 * screenshot in {@code target/screenshots}.
 */
class WatchPageIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  // Generous for a shared, noisy 2-core machine; the measured figures are printed for the record
  // (the benchmark with targets is in load-tests). Every test waits for the pages to converge
  // within it; only the tests tagged "timing" (-Ptiming) hold their p99 to it for three seconds.
  private static final double SYNC_BOUND_MS = 250;
  private static final Path SCREENSHOTS = Path.of("target", "screenshots");

  @RegisterExtension static final Platform platform = Platform.builder().build();
  @RegisterExtension final Browsers browsers = new Browsers();

  @Test
  void bobJoinsThroughTheShareLinkAndPlaysInSync() {
    bobJoinsThroughTheShareLinkAndPlaysAlong(WatchPageIT::awaitInSync);
  }

  @Test
  @Tag("timing")
  void bobsPageStaysWithinTheSyncBoundOfAlicesThroughPlaySeekRateAndPause() {
    bobJoinsThroughTheShareLinkAndPlaysAlong(WatchPageIT::assertStaysInSync);
  }

  /** Alice hosts, Bob joins through the share link; {@code inSync} checks them at each step. */
  private void bobJoinsThroughTheShareLinkAndPlaysAlong(SyncCheck inSync) {
    WebDriver alice = browser();
    String shareLink = createPrivateParty(alice, "alice", "big-buck-bunny");
    assertThat(shareLink).matches(".*/rooms/[0-9a-f-]{36}#invite=.+");

    WebDriver bob = browser();
    joinThroughShareLink(bob, shareLink, "bob");
    assertThat(bob.findElement(By.id("host-controls")).isDisplayed()).isFalse();
    assertThat(bob.findElement(By.id("controlled-by")).getText())
        .isEqualTo("Alice controls playback");

    alice.findElement(By.id("play")).click();
    for (WebDriver page : List.of(alice, bob)) {
      waiting(page)
          .until(d -> js(d, "return !document.getElementById('player').paused").equals(true));
    }
    inSync.check("playing", alice, bob);

    double target = setSeekBar(alice, 0.5);
    for (WebDriver page : List.of(alice, bob)) {
      waiting(page).until(d -> Math.abs(expectedFilmMs(d) - target) < 5_000);
    }
    inSync.check("after a seek", alice, bob);
    screenshot(bob, "bob-in-sync-after-seek");

    new Select(alice.findElement(By.id("rate"))).selectByValue("1.5");
    waiting(bob).until(d -> js(d, "return window.watchparty.state.rate").equals(1.5));
    inSync.check("at rate 1.5", alice, bob);

    alice.findElement(By.id("play")).click();
    for (WebDriver page : List.of(alice, bob)) {
      waiting(page)
          .until(d -> js(d, "return document.getElementById('player').paused").equals(true));
    }
    inSync.check("paused", alice, bob);
    screenshot(alice, "alice-host-paused");
  }

  @Test
  void chatFromBobAppearsInAlicesPageAsTextNotMarkup() {
    WebDriver alice = browser();
    String shareLink = createPrivateParty(alice, "alice", "sintel");
    WebDriver bob = browser();
    joinThroughShareLink(bob, shareLink, "bob");

    String payload = "<img src=x onerror=alert(1)>";
    say(bob, payload);

    WebElement text =
        waiting(alice)
            .until(
                ExpectedConditions.visibilityOfElementLocated(
                    By.cssSelector("#chat-log li[data-user='bob'] .text")));
    assertThat(text.getText()).isEqualTo(payload);
    assertThat(alice.findElements(By.cssSelector("#chat-log img"))).isEmpty();
    assertThatThrownBy(() -> alice.switchTo().alert()).isInstanceOf(NoAlertPresentException.class);
    screenshot(alice, "alice-sees-chat-as-text");
  }

  @Test
  void hiroInJapanIsToldMetropolisIsNotAvailableInHisRegion() {
    WebDriver alice = browser();
    String shareLink = createPrivateParty(alice, "alice", "metropolis");

    WebDriver hiro = browser();
    hiro.get(shareLink);
    signInAs(hiro, "hiro");
    waiting(hiro).until(ExpectedConditions.visibilityOfElementLocated(By.id("problem")));
    assertThat(hiro.findElement(By.id("problem-text")).getText())
        .isEqualTo("This film is not available in your region (JP).");
    assertThat(hiro.findElements(By.cssSelector("#party video[src]"))).isEmpty();
    screenshot(hiro, "hiro-refused-in-japan");
  }

  @Test
  void aMemberWhoseRegionLacksTheNewFilmIsToldSoAndStaysInTheChat() {
    WebDriver alice = browser();
    String shareLink = createPrivateParty(alice, "alice", "big-buck-bunny");
    WebDriver hiro = browser();
    joinThroughShareLink(hiro, shareLink, "hiro");

    new Select(alice.findElement(By.id("title-select"))).selectByValue("metropolis");
    alice.findElement(By.id("title-switch")).click();
    waiting(alice).until(ExpectedConditions.visibilityOfElementLocated(By.id("title-confirm")));
    alice.findElement(By.id("title-confirm-yes")).click();

    WebElement overlay =
        waiting(hiro).until(ExpectedConditions.visibilityOfElementLocated(By.id("unavailable")));
    assertThat(overlay.getText()).contains("Metropolis").contains("not available in your region");
    // The film is not loaded at all where it may not be watched.
    assertThat(js(hiro, "return document.getElementById('player').hasAttribute('src')"))
        .isEqualTo(false);

    say(hiro, "I'll stay for the chat");
    waiting(alice)
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.cssSelector("#chat-log li[data-user='hiro'] .text"), "I'll stay for the chat"));
    screenshot(hiro, "hiro-cannot-watch-the-new-film");
  }

  @Test
  void aKickedViewerIsToldHeWasRemoved() {
    WebDriver alice = browser();
    String shareLink = createPrivateParty(alice, "alice", "sintel");
    WebDriver bob = browser();
    joinThroughShareLink(bob, shareLink, "bob");
    say(bob, "hello");

    // Bob watches in a browser and is listed like any member; the host acts on him from his chat
    // message.
    waiting(alice)
        .until(
            ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("#members li[data-user='bob']")));
    WebElement line =
        waiting(alice)
            .until(
                ExpectedConditions.visibilityOfElementLocated(
                    By.cssSelector("#chat-log li[data-user='bob']")));
    WebElement menu = line.findElement(By.cssSelector(".menu summary"));
    new Actions(alice).moveToElement(line).click(menu).perform();
    line.findElement(By.cssSelector("[data-action='kick']")).click();
    // The page asks before it removes anyone; only the answer sends the kick.
    WebElement question = line.findElement(By.cssSelector(".menu-confirm"));
    assertThat(question.getText()).contains("Remove Bob from the party?");
    question.findElement(By.cssSelector("[data-action='confirm']")).click();

    waiting(bob).until(ExpectedConditions.visibilityOfElementLocated(By.id("problem")));
    assertThat(bob.findElement(By.id("problem-title")).getText()).contains("removed");
    assertThat(js(bob, "return window.watchparty.stream")).isNotEqualTo("reconnecting");
    screenshot(bob, "bob-removed");
  }

  // --- Scenes ------------------------------------------------------------------------------

  /** Signs in on the home page, creates a private party and returns the share link landed on. */
  private static String createPrivateParty(WebDriver page, String userId, String titleId) {
    page.get(platform.uri("/").toString());
    signInAs(page, userId);
    waiting(page)
        .until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#create-title option")));
    screenshot(page, userId + "-home");
    new Select(page.findElement(By.id("create-title"))).selectByValue(titleId);
    page.findElement(By.id("create-name")).sendKeys("Friday film");
    page.findElement(By.cssSelector("#create button[type=submit]")).click();
    awaitParty(page);
    return page.getCurrentUrl();
  }

  @Test
  void aViewerWhoseBridgeRestartsShowsReconnectingThenResumesInSync() {
    aViewersBridgeRestarts(WatchPageIT::awaitInSync);
  }

  @Test
  @Tag("timing")
  void aViewerWhoseBridgeRestartsIsBackWithinTheSyncBound() {
    aViewersBridgeRestarts(WatchPageIT::assertStaysInSync);
  }

  /**
   * Bob's bridge restarts while Alice and he watch; {@code inSync} checks them before and after.
   */
  private void aViewersBridgeRestarts(SyncCheck inSync) {
    WebDriver alice = browser();
    String shareLink = createPrivateParty(alice, "alice", "sintel");
    WebDriver bob = browser();
    joinThroughShareLink(bob, shareLink, "bob");
    alice.findElement(By.id("play")).click();
    inSync.check("before the restart", alice, bob);

    platform.restartBridge();
    waiting(bob).until(d -> d.findElement(By.id("link")).getText().startsWith("reconnecting"));
    screenshot(bob, "bob-reconnecting");
    waiting(bob)
        .until(
            d ->
                List.of("resumed", "resynced", "live")
                    .contains(d.findElement(By.id("link")).getText()));
    inSync.check("after the bridge restarted", alice, bob);
    screenshot(bob, "bob-back-in-sync-after-restart");
  }

  private static void joinThroughShareLink(WebDriver page, String shareLink, String userId) {
    page.get(shareLink);
    signInAs(page, userId);
    awaitParty(page);
  }

  private static void signInAs(WebDriver page, String userId) {
    waiting(page)
        .until(
            ExpectedConditions.elementToBeClickable(
                By.cssSelector("button[data-user='" + userId + "']")))
        .click();
  }

  private static void awaitParty(WebDriver page) {
    waiting(page).until(ExpectedConditions.visibilityOfElementLocated(By.id("party")));
    waiting(page).until(d -> js(d, "return window.watchparty.stream").equals("live"));
  }

  private static void say(WebDriver page, String text) {
    page.findElement(By.id("chat-input")).sendKeys(text);
    page.findElement(By.id("chat-send")).click();
  }

  /** Drags the host's seek bar to {@code fraction} of the film; returns the film position. */
  private static double setSeekBar(WebDriver page, double fraction) {
    WebElement bar = page.findElement(By.id("seek"));
    js(
        page,
        "const bar = arguments[0]; bar.value = Math.round(bar.max * arguments[1]);"
            + " bar.dispatchEvent(new Event('input')); bar.dispatchEvent(new Event('change'));",
        bar,
        fraction);
    return fraction
        * ((Number) js(page, "return Number(window.watchparty.state.titleDurationMs)"))
            .doubleValue();
  }

  private static double expectedFilmMs(WebDriver page) {
    return ((Number) js(page, "return window.watchparty.expectedFilmMs")).doubleValue();
  }

  // --- Sync measurement --------------------------------------------------------------------

  // Both pages record their video's position at the same instants of the machine's one clock
  // (performance.timeOrigin + now() agree across pages), each sample brought to its exact instant
  // with the playback rate, so that the two series compare instant by instant.
  private static final String SAMPLER =
      """
      const [startAt, count, stepMs] = arguments;
      const video = document.getElementById('player');
      const samples = window.syncSamples = [];
      const take = (k) => {
        if (k === count) return;
        const due = startAt + k * stepMs;
        setTimeout(() => {
          const at = performance.timeOrigin + performance.now();
          const rate = video.paused ? 0 : video.playbackRate;
          samples.push(video.currentTime * 1000 + (due - at) * rate);
          take(k + 1);
        }, Math.max(0, due - (performance.timeOrigin + performance.now())));
      };
      take(0);
      """;
  private static final int SAMPLES = 30;
  private static final int SAMPLE_STEP_MS = 100;

  /** How a scenario checks that two pages play together, at a named step. */
  @FunctionalInterface
  private interface SyncCheck {
    void check(String phase, WebDriver a, WebDriver b);
  }

  /**
   * Waits until both players have finished correcting (no seek or nudge under way) and are within
   * the bound of each other: the pages converge. Returns how long that took, in milliseconds.
   */
  private static long awaitInSync(String phase, WebDriver a, WebDriver b) {
    long waitStarted = System.nanoTime();
    await(phase)
        .atMost(WAIT)
        .until(() -> settled(a) && settled(b) && Math.abs(gapNow(a, b)) < SYNC_BOUND_MS);
    return (System.nanoTime() - waitStarted) / 1_000_000;
  }

  /**
   * Waits until both pages converge ({@link #awaitInSync}), then samples both at the same instants
   * for three seconds and asserts that the 99th percentile of their gap stays within the bound: a
   * timing threshold, so only its {@code timing} tests use it.
   */
  private static void assertStaysInSync(String phase, WebDriver a, WebDriver b) {
    long settledAfterMs = awaitInSync(phase, a, b);
    double startAt =
        ((Number) js(a, "return performance.timeOrigin + performance.now()")).doubleValue() + 300;
    for (WebDriver page : List.of(a, b)) js(page, SAMPLER, startAt, SAMPLES, SAMPLE_STEP_MS);
    await(phase).atMost(WAIT).until(() -> sampleCount(a) == SAMPLES && sampleCount(b) == SAMPLES);
    double clipMs =
        ((Number) js(a, "return document.getElementById('player').duration * 1000")).doubleValue();
    double[] gaps = gaps(samples(a), samples(b), clipMs);
    Arrays.sort(gaps);
    System.out.printf(
        Locale.ROOT,
        "WatchPageIT sync gap between two browsers, %s (settled after %d ms): p50 %.1f ms, p99 %.1f"
            + " ms, max %.1f ms (%d instants)%n",
        phase,
        settledAfterMs,
        percentile(gaps, 0.50),
        percentile(gaps, 0.99),
        gaps[gaps.length - 1],
        gaps.length);
    assertThat(percentile(gaps, 0.99)).as("p99 gap %s", phase).isLessThan(SYNC_BOUND_MS);
  }

  private static boolean settled(WebDriver page) {
    return js(page, "return window.watchparty.correction").equals("none");
  }

  private static double gapNow(WebDriver a, WebDriver b) {
    String read =
        "const v = document.getElementById('player');"
            + " return [performance.timeOrigin + performance.now(), v.currentTime * 1000,"
            + " v.paused ? 0 : v.playbackRate, v.duration * 1000];";
    double[] x = numbers(js(a, read));
    double[] y = numbers(js(b, read));
    return wrap(x[1] + (y[0] - x[0]) * x[2] - y[1], x[3]);
  }

  private static double[] gaps(double[] a, double[] b, double clipMs) {
    double[] gaps = new double[a.length];
    for (int i = 0; i < a.length; i++) gaps[i] = Math.abs(wrap(a[i] - b[i], clipMs));
    return gaps;
  }

  /** The clip loops: a gap is the shorter way round. */
  private static double wrap(double gap, double clipMs) {
    if (gap > clipMs / 2) return gap - clipMs;
    if (gap < -clipMs / 2) return gap + clipMs;
    return gap;
  }

  private static double percentile(double[] sorted, double p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
  }

  private static int sampleCount(WebDriver page) {
    return ((Number) js(page, "return (window.syncSamples || []).length")).intValue();
  }

  private static double[] samples(WebDriver page) {
    return numbers(js(page, "return window.syncSamples"));
  }

  private static double[] numbers(Object list) {
    return ((List<?>) list).stream().mapToDouble(n -> ((Number) n).doubleValue()).toArray();
  }

  // --- Browsers ----------------------------------------------------------------------------

  private WebDriver browser() {
    return browsers.open();
  }

  private static WebDriverWait waiting(WebDriver page) {
    return new WebDriverWait(page, WAIT);
  }

  private static Object js(WebDriver page, String script, Object... args) {
    return ((JavascriptExecutor) page).executeScript(script, args);
  }

  private static void screenshot(WebDriver page, String scene) {
    try {
      Files.createDirectories(SCREENSHOTS);
      Files.write(
          SCREENSHOTS.resolve(scene + ".png"),
          ((TakesScreenshot) page).getScreenshotAs(OutputType.BYTES));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
