package io.watchparty.server.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Collects what one logger writes while open, instead of printing it: tests that provoke failures
 * on purpose check the log line and keep their stack traces off the console.
 */
public final class CapturedLog implements AutoCloseable {
  private final Logger logger;
  private final boolean additive;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private CapturedLog(Class<?> source) {
    this.logger = (Logger) LoggerFactory.getLogger(source);
    this.additive = logger.isAdditive();
    appender.start();
    logger.addAppender(appender);
    logger.setAdditive(false);
  }

  public static CapturedLog of(Class<?> source) {
    return new CapturedLog(source);
  }

  /** The events logged at {@code level} so far. */
  public List<ILoggingEvent> at(Level level) {
    return appender.list.stream().filter(e -> e.getLevel() == level).toList();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    logger.setAdditive(additive);
    appender.stop();
  }
}
