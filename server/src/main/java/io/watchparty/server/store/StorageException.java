package io.watchparty.server.store;

import java.io.Serial;

/**
 * Storage could not be started or used, for a reason a person can act on.
 *
 * <p>The message is one or two sentences written for the person running the server (what went wrong
 * and what to do), so callers print {@link #getMessage()} and need no stack trace. The cause, when
 * there is one, is kept for logs.
 */
public final class StorageException extends RuntimeException {
  @Serial private static final long serialVersionUID = 1L;

  /** A failure with no underlying exception. */
  public StorageException(String message) {
    super(message);
  }

  /** A failure explained by {@code message}, caused by {@code cause}. */
  public StorageException(String message, Throwable cause) {
    super(message, cause);
  }
}
