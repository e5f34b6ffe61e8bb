package io.watchparty.loadtest;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Channels of the load tools and fleet tests, which talk to loopback addresses only. */
public final class Loopback {
  private Loopback() {}

  /** A plaintext channel to {@code hostPort}, which must be a loopback address. */
  public static ManagedChannel channel(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("not host:port: " + hostPort);
    }
    try {
      InetAddress host = InetAddress.getByName(hostPort.substring(0, colon));
      if (!host.isLoopbackAddress()) {
        throw new IllegalArgumentException("not a loopback address: " + hostPort);
      }
      return NettyChannelBuilder.forAddress(
              host.getHostAddress(), Integer.parseInt(hostPort.substring(colon + 1)))
          .usePlaintext()
          .build();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("unknown host in " + hostPort, e);
    }
  }
}
