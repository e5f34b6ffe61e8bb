package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.datastax.oss.driver.api.core.CqlSession;
import io.watchparty.server.testing.CassandraExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page in a real headless Chromium (Debian's chromium and chromedriver), against the real
 * bridge, server and Cassandra: two people in two browsers watch one party in sync and chat.
 */
@ExtendWith(CassandraExtension.class)
class WatchPageIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  // A bound for a shared, noisy 2-core machine; the measured error is printed for the record.
  private static final double SYNC_BOUND_MS = 250;

  private static Platform platform;
  private final List<WebDriver> browsers = new ArrayList<>();

  @BeforeAll
  static void start(CqlSession session) {
    platform = Platform.start(session);
  }

  @AfterAll
  static void stop() {
    platform.close();
  }

  @AfterEach
  void closeBrowsers() {
    browsers.forEach(WebDriver::quit);
    browsers.clear();
  }

  private WebDriver browser() {
    ChromeOptions options = new ChromeOptions();
    options.setBinary("/usr/bin/chromium");
    try {
      options.addArguments(
          "--headless=new",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
          "--autoplay-policy=no-user-gesture-required",
          "--window-size=1280,800",
          "--user-data-dir=" + Files.createTempDirectory("watchparty-chromium"));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(Path.of("/usr/bin/chromedriver").toFile())
            .build();
    WebDriver driver = new ChromeDriver(service, options);
    browsers.add(driver);
    return driver;
  }

  private static WebDriverWait waiting(WebDriver driver) {
    return new WebDriverWait(driver, WAIT);
  }

  private static Object js(WebDriver driver, String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  /** Signs in as a demo user on whatever page shows the sign-in choices. */
  private static void signInAs(WebDriver driver, String userId) {
    waiting(driver)
        .until(
            ExpectedConditions.elementToBeClickable(
                By.cssSelector("button[data-user='" + userId + "']")))
        .click();
  }

  private static void awaitParty(WebDriver driver) {
    waiting(driver).until(ExpectedConditions.visibilityOfElementLocated(By.id("party")));
    waiting(driver).until(d -> js(d, "return window.watchparty.state !== null") == Boolean.TRUE);
  }

  /** Alice creates a private party from the home page; returns the share link she lands on. */
  private String aliceCreatesAPrivateParty(WebDriver alice, String titleId) {
    alice.get(platform.uri("/").toString());
    signInAs(alice, "alice");
    waiting(alice).until(ExpectedConditions.visibilityOfElementLocated(By.id("create")));
    waiting(alice).until(d -> !d.findElements(By.cssSelector("#create-title option")).isEmpty());
    js(alice, "document.getElementById('create-title').value = arguments[0]", titleId);
    alice.findElement(By.id("create-name")).sendKeys("Friday film");
    alice.findElement(By.cssSelector("#create button[type=submit]")).click();
    awaitParty(alice);
    return alice.getCurrentUrl();
  }

  /** Positions (ms of clip) of the two players, taken as close together as the driver allows. */
  private static double[] sample(WebDriver driver) {
    @SuppressWarnings("unchecked")
    List<Number> reading =
        (List<Number>)
            js(
                driver,
                "const v = document.getElementById('player');"
                    + " return [performance.timeOrigin + performance.now(), v.currentTime * 1000,"
                    + " v.paused ? 0 : 1];");
    return new double[] {
      reading.get(0).doubleValue(), reading.get(1).doubleValue(), reading.get(2).doubleValue()
    };
  }

  @Test
  void bobJoinsThroughTheShareLinkAndPlaysInSyncWithAlice() {
    WebDriver alice = browser();
    String shareLink = aliceCreatesAPrivateParty(alice, "big-buck-bunny");
    assertThat(shareLink).contains("/rooms/").contains("#invite=");

    WebDriver bob = browser();
    bob.get(shareLink);
    signInAs(bob, "bob");
    awaitParty(bob);
    assertThat(bob.findElement(By.id("host-controls")).isDisplayed()).isFalse();

    alice.findElement(By.id("play")).click();
    for (WebDriver driver : List.of(alice, bob)) {
      waiting(driver).until(d -> sample(d)[2] == 1);
    }
    // Let the first corrections (a seek to the shared position) land, then measure.
    waiting(alice).until(d -> syncedWithin(alice, bob, SYNC_BOUND_MS));
    List<Double> errors = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      errors.add(Math.abs(gap(alice, bob)));
      // Samples a quarter of a second apart, over five seconds of playback.
      await().pollDelay(Duration.ofMillis(250)).until(() -> true);
    }
    Collections.sort(errors);
    System.out.printf(
        "WatchPageIT sync error between two browsers: p50 %.1f ms, p95 %.1f ms, max %.1f ms%n",
        errors.get(errors.size() / 2), errors.get((int) (errors.size() * 0.95)), errors.getLast());
    assertThat(errors.get(errors.size() / 2)).isLessThan(SYNC_BOUND_MS);

    // A seek by the host moves both players to the new position.
    js(
        alice,
        "const s = document.getElementById('seek'); s.value = 500;"
            + " s.dispatchEvent(new Event('change'));");
    for (WebDriver driver : List.of(alice, bob)) {
      waiting(driver)
          .until(
              d ->
                  Math.abs(sample(d)[1] - expectedClipPosition(d)) < SYNC_BOUND_MS
                      && ((Number) js(d, "return Number(window.watchparty.state.positionMs)"))
                              .doubleValue()
                          > 0);
    }
    waiting(alice).until(d -> syncedWithin(alice, bob, SYNC_BOUND_MS));
    screenshot(bob, "bob-in-sync");
  }

  /** Where the page's sync module says the clip should be now. */
  private static double expectedClipPosition(WebDriver driver) {
    return ((Number)
            js(
                driver,
                "const w = window.watchparty, s = w.state, v = document.getElementById('player');"
                    + " const t = w.clock.now();"
                    + " const p = s.playing ? Number(s.positionMs) + Math.max(0, t - Number(s.effectiveAtMs)) * s.rate"
                    + " : Number(s.positionMs);"
                    + " return p % (v.duration * 1000);"))
        .doubleValue();
  }

  /** Alice's position minus Bob's, both brought to the same instant of the machine's clock. */
  private static double gap(WebDriver alice, WebDriver bob) {
    double[] a = sample(alice);
    double[] b = sample(bob);
    return a[1] + (b[0] - a[0]) - b[1];
  }

  private static boolean syncedWithin(WebDriver alice, WebDriver bob, double boundMs) {
    return Math.abs(gap(alice, bob)) < boundMs;
  }

  @Test
  void chatIsShownAsTextAndAKickedViewerIsToldSo() {
    WebDriver alice = browser();
    String shareLink = aliceCreatesAPrivateParty(alice, "sintel");
    WebDriver bob = browser();
    bob.get(shareLink);
    signInAs(bob, "bob");
    awaitParty(bob);

    String attack = "<img src=x onerror=\"window.pwned=1\">hello";
    bob.findElement(By.id("chat-input")).sendKeys(attack);
    bob.findElement(By.cssSelector("#chat-form button[type=submit]")).click();
    WebElement line =
        waiting(alice)
            .until(
                ExpectedConditions.visibilityOfElementLocated(
                    By.cssSelector("#chat-log li .text")));
    assertThat(line.getText()).isEqualTo(attack);
    assertThat(alice.findElements(By.cssSelector("#chat-log img"))).isEmpty();
    assertThat(js(alice, "return window.pwned === undefined")).isEqualTo(true);

    // The host kicks bob from his chat message.
    WebElement kick =
        alice.findElement(By.cssSelector("#chat-log li [data-for='bob'] [data-action='kick']"));
    js(alice, "arguments[0].click()", kick);
    waiting(bob).until(ExpectedConditions.visibilityOfElementLocated(By.id("problem")));
    assertThat(bob.findElement(By.id("problem-text")).getText()).contains("removed");
  }

  @Test
  void aViewerWhoseRegionLacksTheTitleIsToldWhyAndNotJoined() {
    WebDriver alice = browser();
    String shareLink = aliceCreatesAPrivateParty(alice, "metropolis");
    WebDriver hiro = browser();
    hiro.get(shareLink);
    signInAs(hiro, "hiro");
    waiting(hiro).until(ExpectedConditions.visibilityOfElementLocated(By.id("problem")));
    assertThat(hiro.findElement(By.id("problem-text")).getText())
        .isEqualTo("This film is not available in your region (JP).");
    screenshot(hiro, "hiro-refused");
  }

  private static void screenshot(WebDriver driver, String name) {
    try {
      Path target = Path.of("target", "screenshots", name + ".png");
      Files.createDirectories(target.getParent());
      Files.write(target, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
