package io.watchparty.loadtest;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One simulated browser tab on one TCP connection: {@code POST /api/rooms/{id}/join}, then, on the
 * same kept-alive connection, {@code GET /api/rooms/{id}/events}, whose event stream it reads until
 * the run ends. It records when each {@code playback_changed} event arrives (into its loop's {@link
 * Arrivals}) and checks the stream's ids: a repeated or decreasing id is a duplicate, a command
 * sequence never received (and not covered by a later snapshot) is missing.
 *
 * <p>Driven by one {@link EventLoop} thread; the run's main thread reads only the volatile {@link
 * #phase()}, {@link #lastId()} and {@link #failure()} while the loop runs, and the rest after the
 * loop has stopped.
 */
final class SseConnection implements HttpResponseReader.Handler, SseParser.Listener {
  enum Phase {
    CONNECTING,
    JOINING,
    SUBSCRIBING,
    STREAMING,
    CLOSED
  }

  /** The two requests of one signed-in user, the same bytes for every tab of that user. */
  record Requests(byte[] join, byte[] events) {
    static Requests of(String authority, String roomId, String cookie) {
      String join =
          "POST /api/rooms/"
              + roomId
              + "/join HTTP/1.1\r\nHost: "
              + authority
              + "\r\nCookie: "
              + cookie
              + "\r\nX-WatchParty-Request: 1\r\nContent-Type: application/json\r\n"
              + "Content-Length: 2\r\n\r\n{}";
      String events =
          "GET /api/rooms/"
              + roomId
              + "/events HTTP/1.1\r\nHost: "
              + authority
              + "\r\nCookie: "
              + cookie
              + "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
      return new Requests(
          join.getBytes(StandardCharsets.US_ASCII), events.getBytes(StandardCharsets.US_ASCII));
    }
  }

  private static final Pattern REASON = Pattern.compile("\"(?:error|reason)\"\\s*:\\s*\"(\\w+)\"");

  private final Requests requests;
  private final InetSocketAddress source; // null: the kernel picks the source address
  private final Arrivals arrivals;
  private final LongAdder events;
  private final Runnable settled;
  private final long deadlineNanos;
  private final HttpResponseReader reader = new HttpResponseReader(this);
  private final SseParser parser = new SseParser(this);

  private volatile Phase phase = Phase.CONNECTING;
  private volatile long lastId = -1;
  private SelectionKey key;
  private ByteBuffer pendingWrite;
  private int status;
  private boolean keepAlive;
  private final StringBuilder errorBody = new StringBuilder();
  private boolean headSeen;
  private boolean responseEnded;
  private boolean settledOnce;
  private long now;

  private volatile String failure = ""; // also read by the main thread while the loop runs
  private long snapshotId = -1;
  private long resyncedThrough = -1; // highest id of a snapshot that replaced missed events
  private final BitSet received = new BitSet(); // bit i: event snapshotId + i arrived
  private int duplicates;
  private int resyncs;
  private String endedReason = "";

  SseConnection(
      Requests requests,
      InetSocketAddress source,
      Arrivals arrivals,
      LongAdder events,
      Runnable settled,
      long deadlineNanos) {
    this.requests = requests;
    this.source = source;
    this.arrivals = arrivals;
    this.events = events;
    this.settled = settled;
    this.deadlineNanos = deadlineNanos;
  }

  Phase phase() {
    return phase;
  }

  /** The highest event id received, -1 before the first. */
  long lastId() {
    return lastId;
  }

  InetSocketAddress source() {
    return source;
  }

  /** Why it closed before the run ended ("" while it streams). */
  String failure() {
    return failure;
  }

  String endedReason() {
    return endedReason;
  }

  int duplicates() {
    return duplicates;
  }

  int resyncs() {
    return resyncs;
  }

  /**
   * How many of {@code sequences} (the events the host's commands produced) this tab should have
   * received but did not: those after its first snapshot, neither received nor replaced by a later
   * snapshot.
   */
  int missing(long[] sequences) {
    if (snapshotId < 0) {
      return 0;
    }
    int missing = 0;
    for (long sequence : sequences) {
      if (sequence > snapshotId
          && sequence > resyncedThrough
          && !received.get((int) (sequence - snapshotId))) {
        missing++;
      }
    }
    return missing;
  }

  /** The channel is registered with its loop and connecting. */
  void connecting(SelectionKey key) {
    this.key = key;
  }

  void onConnectable() throws IOException {
    ((SocketChannel) key.channel()).finishConnect();
    phase = Phase.JOINING;
    send(requests.join());
  }

  void onWritable() throws IOException {
    write();
  }

  /** Reads what {@code buffer} holds, which arrived at {@code nanos}. */
  void onRead(ByteBuffer buffer, long nanos) {
    now = nanos;
    while (buffer.hasRemaining() && phase != Phase.CLOSED) {
      reader.feed(buffer);
      if (responseEnded) {
        responseEnded = false;
        nextRequest();
      }
    }
  }

  /** The peer closed the connection. */
  void onEndOfStream() {
    boolean clean = reader.closedAtEnd();
    if (phase == Phase.STREAMING) {
      fail(endedReason.isEmpty() ? "closed by the bridge while streaming" : "");
    } else if (!headSeen) {
      fail("closed by the bridge before it answered the " + request());
    } else {
      fail(clean ? describe() : "closed in the middle of the " + request() + " answer");
    }
  }

  /** Past its deadline without streaming: gives up. */
  void expire(long nanos) {
    Phase current = phase;
    if (current != Phase.STREAMING && current != Phase.CLOSED && nanos >= deadlineNanos) {
      fail(
          "no stream within the connect timeout (" + current.name().toLowerCase(Locale.ROOT) + ")");
    }
  }

  /** Closes the connection with {@code why} ("" for a stream that ended as the bridge said). */
  void fail(String why) {
    if (phase == Phase.CLOSED) {
      return;
    }
    if (failure.isEmpty()) {
      failure = why;
    }
    phase = Phase.CLOSED;
    settle();
    close();
  }

  void close() {
    if (key != null) {
      key.cancel();
      try {
        key.channel().close();
      } catch (IOException e) {
        // Closing a socket we are done with: nothing left to do about a failure.
      }
    }
  }

  @Override
  public void onHead(int status, boolean keepAlive) {
    this.status = status;
    this.keepAlive = keepAlive;
    headSeen = true;
    errorBody.setLength(0);
    if (phase == Phase.SUBSCRIBING && status == 200) {
      phase = Phase.STREAMING;
      settle();
    }
  }

  @Override
  public void onBody(ByteBuffer bytes) {
    if (phase == Phase.STREAMING) {
      parser.feed(bytes);
      return;
    }
    // A join answer or a refusal: keep the start of the body, for its error reason.
    while (bytes.hasRemaining()) {
      byte b = bytes.get();
      if (errorBody.length() < 256) {
        errorBody.append((char) (b & 0xff));
      }
    }
  }

  @Override
  public void onEnd() {
    responseEnded = true;
  }

  @Override
  public void onEvent(String id, String type, String data) {
    if (type.equals("ended")) {
      Matcher reason = REASON.matcher(data);
      endedReason = reason.find() ? reason.group(1) : "(no reason)";
      return;
    }
    if (id.isEmpty()) {
      return;
    }
    events.increment();
    long sequence;
    try {
      sequence = Long.parseLong(id);
    } catch (NumberFormatException e) {
      fail("an event id that is not a number: " + id);
      return;
    }
    if (type.equals("snapshot")) {
      if (snapshotId < 0) {
        snapshotId = sequence;
      } else {
        resyncs++;
        resyncedThrough = Math.max(resyncedThrough, sequence);
      }
    } else if (snapshotId < 0) {
      fail("a " + type + " event before the snapshot");
      return;
    } else if (sequence <= lastId) {
      duplicates++; // delivered before, or out of order: either way not exactly once in order
      return;
    } else {
      received.set((int) (sequence - snapshotId));
      if (type.equals("playback_changed")) {
        arrivals.add(sequence, now);
      }
    }
    lastId = Math.max(lastId, sequence);
  }

  /** The join's answer arrived: subscribe on the same connection, or stop with its refusal. */
  private void nextRequest() {
    if (phase == Phase.JOINING && status == 200 && keepAlive) {
      phase = Phase.SUBSCRIBING;
      reader.reset();
      send(requests.events());
    } else if (phase == Phase.JOINING && status == 200) {
      fail("the bridge closed the connection after the join");
    } else if (phase == Phase.STREAMING) {
      fail(endedReason.isEmpty() ? "the event stream's body ended" : "");
    } else {
      fail(describe());
    }
  }

  /** The answer to the current request, as "join 503 TOO_MANY_STREAMS". */
  private String describe() {
    Matcher reason = REASON.matcher(errorBody);
    return request() + " " + status + (reason.find() ? " " + reason.group(1) : "");
  }

  private String request() {
    return phase == Phase.JOINING || phase == Phase.CONNECTING ? "join" : "events";
  }

  private void send(byte[] request) {
    headSeen = false;
    pendingWrite = ByteBuffer.wrap(request);
    try {
      write();
    } catch (IOException e) {
      fail("write failed: " + e.getMessage());
    }
  }

  private void write() throws IOException {
    ((SocketChannel) key.channel()).write(pendingWrite);
    if (pendingWrite.hasRemaining()) {
      key.interestOps(SelectionKey.OP_WRITE);
    } else {
      pendingWrite = null;
      key.interestOps(SelectionKey.OP_READ);
    }
  }

  private void settle() {
    if (!settledOnce) {
      settledOnce = true;
      settled.run();
    }
  }
}
