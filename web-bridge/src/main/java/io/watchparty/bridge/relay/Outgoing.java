package io.watchparty.bridge.relay;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** What a browser's writer sends next on its event stream. */
public sealed interface Outgoing {

  /**
   * A Server-Sent Event, framed once ({@link #wire()}) and shared by every browser that receives
   * the same room event.
   *
   * @param id the room sequence, sent as the SSE {@code id}; {@link #NO_ID} for an event meant for
   *     this browser only, which leaves its {@code Last-Event-ID} as it was
   * @param name the SSE {@code event} name
   * @param json the {@code data}, one line of JSON
   * @param wire the whole frame as sent: {@code id}, {@code event} and {@code data} lines
   */
  record Event(long id, String name, String json, byte[] wire) implements Outgoing {
    /** The id of an event that is not a room event. */
    public static final long NO_ID = -1;

    public Event {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(json, "json");
      Objects.requireNonNull(wire, "wire");
    }

    /**
     * Frames an event; {@code json} must be on one line (the proto JSON printer's compact form).
     */
    public static Event of(long id, String name, String json) {
      if (json.indexOf('\n') >= 0 || json.indexOf('\r') >= 0 || !name.matches("[a-z_]+")) {
        throw new IllegalArgumentException("an SSE event needs a plain name and one line of data");
      }
      String frame =
          (id == NO_ID ? "" : "id: " + id + "\n") + "event: " + name + "\ndata: " + json + "\n\n";
      return new Event(id, name, json, frame.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** The stream ends, and why (a reason that says so stops the browser's reconnects). */
  record End(EndReason reason) implements Outgoing {
    public End {
      Objects.requireNonNull(reason, "reason");
    }
  }
}
