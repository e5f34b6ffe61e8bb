package io.watchparty.bridge;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.slf4j.LoggerFactory;

/**
 * Every error any logger writes while open: logback's ERROR events and java.util.logging's SEVERE
 * records (Helidon logs through JUL, which the tests do not bridge to SLF4J as Main does). For
 * tests that provoke a client's fault and check that the bridge does not report it as its own
 * failure. Unlike {@code CapturedLog}, it only listens: what is logged is still printed.
 */
final class ErrorLog implements AutoCloseable {
  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
  private final List<String> severe = new CopyOnWriteArrayList<>();
  private final java.util.logging.Logger julRoot = java.util.logging.Logger.getLogger("");
  private final Handler julHandler =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          if (record.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue()) {
            severe.add(record.getLoggerName() + ": " + record.getMessage());
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  private ErrorLog() {
    appender.start();
    root.addAppender(appender);
    julRoot.addHandler(julHandler);
  }

  static ErrorLog open() {
    return new ErrorLog();
  }

  /** The errors logged so far, as {@code logger: message}. */
  List<String> errors() {
    List<String> errors = new ArrayList<>(severe);
    synchronized (appender.list) {
      appender.list.stream()
          .filter(e -> e.getLevel() == Level.ERROR)
          .map(e -> e.getLoggerName() + ": " + e.getFormattedMessage())
          .forEach(errors::add);
    }
    return errors;
  }

  @Override
  public void close() {
    root.detachAppender(appender);
    appender.stop();
    julRoot.removeHandler(julHandler);
  }
}
