package io.watchparty.bridge;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * A real headless Chromium for the page's tests, driven through Debian's chromedriver (both
 * installed by {@code ./watchparty test}); each with a profile of its own, so two are two users.
 */
final class Chromium {
  // Selenium warns, through java.util.logging, at every start that it has no DevTools protocol
  // build for Debian's newer Chromium; the tests use WebDriver alone, so the warning says nothing.
  // Held here: java.util.logging keeps its loggers only weakly.
  private static final Logger DEVTOOLS_LOG = Logger.getLogger("org.openqa.selenium.devtools");

  static {
    DEVTOOLS_LOG.setLevel(Level.SEVERE);
  }

  private Chromium() {}

  static WebDriver start() {
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
      throw new UncheckedIOException(e);
    }
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(Path.of("/usr/bin/chromedriver").toFile())
            .build();
    return new ChromeDriver(service, options);
  }
}
