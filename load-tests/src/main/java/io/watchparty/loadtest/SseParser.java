package io.watchparty.loadtest;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * An incremental parser of a {@code text/event-stream} body (the WHATWG "event stream
 * interpretation"): lines end in CRLF, LF or CR; {@code id}, {@code event} and {@code data} fields
 * accumulate until a blank line dispatches the event; lines starting with a colon are comments and
 * are skipped.
 *
 * <p>Made for tens of thousands of streams in one process, so each one's memory is bounded: a
 * {@code data} value is kept only up to {@link #DATA_KEPT} bytes (the load test needs ids, types
 * and the short reason of an {@code ended} event, not whole snapshots), and a field name longer
 * than any the protocol uses marks its line as ignored. Not thread-safe: one event loop feeds it.
 */
final class SseParser {
  /** What the parser finds. */
  interface Listener {
    /**
     * An event was dispatched.
     *
     * @param id this event's own {@code id} field, or "" if it had none (a browser would keep the
     *     stream's last id instead; a load test checking ids needs to know which event set one)
     * @param type the {@code event} field, or "message"
     * @param data the data lines joined by '\n', cut at {@link #DATA_KEPT} bytes
     */
    void onEvent(String id, String type, String data);
  }

  static final int DATA_KEPT = 512;

  // Longest field name of the protocol is "retry"; anything longer is a field the parser ignores.
  private static final int NAME_KEPT = 8;

  private final Listener listener;
  private final byte[] name = new byte[NAME_KEPT];
  private int nameLength;
  private boolean inValue;
  private boolean valueLeadingSpace; // the one space after "field:" is not part of the value
  private boolean lineIgnored;
  private boolean afterCr;
  private boolean lineEmpty = true;

  // The value of the current line, and the event's data so far; grown on demand up to their cap.
  private byte[] value = new byte[0];
  private int valueLength;
  private byte[] data = new byte[0];
  private int dataLength;
  private boolean hasData;

  private String id = "";
  private String type = "";

  SseParser(Listener listener) {
    this.listener = listener;
  }

  /** Consumes every remaining byte of {@code bytes}. */
  void feed(ByteBuffer bytes) {
    while (bytes.hasRemaining()) {
      byte b = bytes.get();
      if (b == '\n' && afterCr) {
        afterCr = false; // the LF of a CRLF: the line already ended at the CR
        continue;
      }
      afterCr = b == '\r';
      if (b == '\n' || b == '\r') {
        endLine();
      } else {
        accept(b);
      }
    }
  }

  private void accept(byte b) {
    lineEmpty = false;
    if (lineIgnored) {
      return;
    }
    if (inValue) {
      if (valueLeadingSpace) {
        valueLeadingSpace = false;
        if (b == ' ') {
          return;
        }
      }
      if (valueLength < DATA_KEPT) {
        value = append(value, valueLength++, b);
      }
    } else if (b == ':') {
      inValue = true;
      valueLeadingSpace = true;
    } else if (nameLength < NAME_KEPT) {
      name[nameLength++] = b;
    } else {
      lineIgnored = true;
    }
  }

  private void endLine() {
    if (lineEmpty) {
      dispatch();
    } else if (!lineIgnored) {
      if (nameLength > 0) {
        field(); // a line starting with ':' is a comment, such as ": keep-alive"
      }
    }
    nameLength = 0;
    valueLength = 0;
    inValue = false;
    valueLeadingSpace = false;
    lineIgnored = false;
    lineEmpty = true;
  }

  private void field() {
    switch (new String(name, 0, nameLength, StandardCharsets.US_ASCII)) {
      case "event" -> type = valueString();
      case "data" -> {
        if (hasData && dataLength < DATA_KEPT) {
          data = append(data, dataLength++, (byte) '\n');
        }
        hasData = true;
        int kept = Math.min(valueLength, DATA_KEPT - dataLength);
        if (kept > 0) {
          data = ensure(data, dataLength + kept);
          System.arraycopy(value, 0, data, dataLength, kept);
          dataLength += kept;
        }
      }
      case "id" -> {
        String value = valueString();
        if (value.indexOf('\0') < 0) {
          id = value;
        }
      }
      default -> {} // "retry" and unknown fields: nothing the load test needs
    }
  }

  private void dispatch() {
    if (hasData) {
      listener.onEvent(
          id,
          type.isEmpty() ? "message" : type,
          new String(data, 0, dataLength, StandardCharsets.UTF_8));
    }
    hasData = false;
    dataLength = 0;
    id = "";
    type = "";
  }

  private String valueString() {
    return new String(value, 0, valueLength, StandardCharsets.UTF_8);
  }

  private static byte[] append(byte[] buffer, int at, byte b) {
    byte[] grown = ensure(buffer, at + 1);
    grown[at] = b;
    return grown;
  }

  private static byte[] ensure(byte[] buffer, int size) {
    if (size <= buffer.length) {
      return buffer;
    }
    byte[] grown = new byte[Math.min(DATA_KEPT, Math.max(size, Math.max(32, buffer.length * 2)))];
    System.arraycopy(buffer, 0, grown, 0, buffer.length);
    return grown;
  }
}
