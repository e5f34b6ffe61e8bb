package io.watchparty.loadtest;

import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * An incremental reader of one HTTP/1.1 response at a time: status line and headers, then a body
 * framed by {@code Content-Length}, by chunked transfer coding, or by the end of the connection.
 * Body bytes go to the {@link Handler} as they arrive, so an endless event stream needs no buffer
 * beyond one header line. Only what a load client needs: no trailers are read, no 1xx responses.
 * Not thread-safe: one event loop feeds it.
 */
final class HttpResponseReader {
  /**
   * What the reader finds, in order: one head, then body bytes, then (unless it never ends) end.
   */
  interface Handler {
    void onHead(int status, boolean keepAlive);

    /** Body bytes; the handler consumes all of {@code bytes}. */
    void onBody(ByteBuffer bytes);

    /** The body ended; bytes after it belong to the next response. */
    void onEnd();
  }

  /** The response is not HTTP/1.1 as this reader knows it. */
  static final class MalformedResponseException extends RuntimeException {
    MalformedResponseException(String message) {
      super(message);
    }
  }

  private static final int LINE_MAX = 8192;

  private enum State {
    STATUS,
    HEADERS,
    BODY_LENGTH,
    CHUNK_SIZE,
    CHUNK_DATA,
    CHUNK_DATA_END,
    CHUNK_TRAILER,
    BODY_TO_CLOSE,
    DONE
  }

  private final Handler handler;
  private State state = State.STATUS;
  private final StringBuilder line = new StringBuilder();
  private int status;
  private long contentLength;
  private boolean chunked;
  private boolean keepAlive;
  private long remaining;

  HttpResponseReader(Handler handler) {
    this.handler = handler;
  }

  /** Expects the next response on the same connection. */
  void reset() {
    state = State.STATUS;
    line.setLength(0);
  }

  /**
   * Consumes {@code bytes} until they run out or the response ends; what is left after the end
   * stays in {@code bytes}.
   */
  void feed(ByteBuffer bytes) {
    while (bytes.hasRemaining() && state != State.DONE) {
      switch (state) {
        case STATUS, HEADERS, CHUNK_SIZE, CHUNK_DATA_END, CHUNK_TRAILER -> {
          String complete = readLine(bytes);
          if (complete != null) {
            onLine(complete);
          }
        }
        case BODY_LENGTH, CHUNK_DATA -> {
          int n = (int) Math.min(remaining, bytes.remaining());
          body(bytes, n);
          remaining -= n;
          if (remaining == 0) {
            state = state == State.BODY_LENGTH ? end() : State.CHUNK_DATA_END;
          }
        }
        case BODY_TO_CLOSE -> body(bytes, bytes.remaining());
        default -> throw new AssertionError(state);
      }
    }
  }

  /** The connection closed: for a body framed by the close, that is its end. */
  boolean closedAtEnd() {
    if (state == State.BODY_TO_CLOSE) {
      end();
      return true;
    }
    return state == State.DONE || (state == State.STATUS && line.isEmpty());
  }

  private void onLine(String text) {
    switch (state) {
      case STATUS -> {
        // HTTP/1.1 200 OK
        if (!text.startsWith("HTTP/1.") || text.length() < 12 || text.charAt(8) != ' ') {
          throw new MalformedResponseException("not an HTTP/1.x status line: " + text);
        }
        status = parseStatus(text.substring(9, 12));
        keepAlive = text.charAt(7) == '1';
        contentLength = -1;
        chunked = false;
        state = State.HEADERS;
      }
      case HEADERS -> {
        if (!text.isEmpty()) {
          header(text);
          return;
        }
        handler.onHead(status, keepAlive);
        if (chunked) {
          state = State.CHUNK_SIZE;
        } else if (contentLength >= 0 || status == 204 || status == 304) {
          remaining = Math.max(contentLength, 0);
          state = remaining == 0 ? end() : State.BODY_LENGTH;
        } else {
          state = State.BODY_TO_CLOSE;
        }
      }
      case CHUNK_SIZE -> {
        int extension = text.indexOf(';');
        String size = (extension < 0 ? text : text.substring(0, extension)).strip();
        try {
          remaining = Long.parseLong(size, 16);
        } catch (NumberFormatException e) {
          throw new MalformedResponseException("bad chunk size: " + text);
        }
        state = remaining == 0 ? State.CHUNK_TRAILER : State.CHUNK_DATA;
      }
      case CHUNK_DATA_END -> {
        if (!text.isEmpty()) {
          throw new MalformedResponseException("chunk data longer than its size");
        }
        state = State.CHUNK_SIZE;
      }
      case CHUNK_TRAILER -> {
        if (text.isEmpty()) {
          state = end();
        }
      }
      default -> throw new AssertionError(state);
    }
  }

  private void header(String text) {
    int colon = text.indexOf(':');
    if (colon <= 0) {
      throw new MalformedResponseException("bad header line: " + text);
    }
    String name = text.substring(0, colon).strip().toLowerCase(Locale.ROOT);
    String value = text.substring(colon + 1).strip().toLowerCase(Locale.ROOT);
    switch (name) {
      case "content-length" -> {
        try {
          contentLength = Long.parseLong(value);
        } catch (NumberFormatException e) {
          throw new MalformedResponseException("bad Content-Length: " + value);
        }
      }
      case "transfer-encoding" -> chunked = value.endsWith("chunked");
      case "connection" -> keepAlive = !value.contains("close");
      default -> {}
    }
  }

  private State end() {
    handler.onEnd();
    return State.DONE;
  }

  private void body(ByteBuffer bytes, int n) {
    int limit = bytes.limit();
    bytes.limit(bytes.position() + n);
    handler.onBody(bytes);
    bytes.position(bytes.limit()).limit(limit);
  }

  /** A line without its CRLF once it is complete, else null (the part read so far is kept). */
  private String readLine(ByteBuffer bytes) {
    while (bytes.hasRemaining()) {
      char c = (char) (bytes.get() & 0xff);
      if (c == '\n') {
        int end = line.length() > 0 && line.charAt(line.length() - 1) == '\r' ? 1 : 0;
        String complete = line.substring(0, line.length() - end);
        line.setLength(0);
        return complete;
      }
      if (line.length() == LINE_MAX) {
        throw new MalformedResponseException("a header line longer than " + LINE_MAX + " bytes");
      }
      line.append(c);
    }
    return null;
  }

  private static int parseStatus(String digits) {
    try {
      return Integer.parseInt(digits);
    } catch (NumberFormatException e) {
      throw new MalformedResponseException("bad status code: " + digits);
    }
  }
}
