package io.watchparty.bridge;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.openqa.selenium.WebDriver;

/**
 * The headless Chromiums of one test ({@code @RegisterExtension} on an instance field): each one
 * {@link #open}ed is quit when the test ends, passed or failed, so no browser outlives its test.
 */
final class Browsers implements AfterEachCallback {
  private static final Duration SCRIPT_WAIT = Duration.ofSeconds(30);

  private final List<WebDriver> open = new ArrayList<>();

  /** A new browser (a person in their own home), with asynchronous scripts allowed 30 s. */
  WebDriver open() {
    WebDriver driver = Chromium.start();
    driver.manage().timeouts().scriptTimeout(SCRIPT_WAIT);
    open.add(driver);
    return driver;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    open.forEach(WebDriver::quit);
    open.clear();
  }
}
