package io.watchparty.bridge.relay;

/** Relay meters that count nothing: tests override what they look at. */
class NoRelayMetrics implements RelayMetrics {
  @Override
  public void upstreamOpened() {}

  @Override
  public void delivered(int browsers) {}

  @Override
  public void resumedExactly() {}

  @Override
  public void resumedBySnapshot() {}

  @Override
  public void resynced() {}

  @Override
  public void roomMoved() {}
}
