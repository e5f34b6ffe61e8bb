package io.watchparty.loadtest;

import io.grpc.EquivalentAddressGroup;
import io.grpc.ManagedChannel;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A channel over several server instances with gRPC's round-robin balancing: what a load balancer
 * in front of a fleet is to its clients. Each call goes to a live instance; one that is down is
 * skipped until it answers again (a restarted instance listens on its old address).
 */
final class BalancedChannel {
  private static final String SCHEME = "watchparty-fleet";
  private static final Map<String, List<InetSocketAddress>> fleets = new ConcurrentHashMap<>();

  static {
    NameResolverRegistry.getDefaultRegistry().register(new Provider());
  }

  private BalancedChannel() {}

  /** A plaintext channel that spreads its calls over {@code addresses} ({@code host:port}). */
  static ManagedChannel over(List<String> addresses) {
    String name = "fleet-" + fleets.size();
    fleets.put(
        name,
        addresses.stream()
            .map(
                a ->
                    new InetSocketAddress(
                        a.substring(0, a.lastIndexOf(':')),
                        Integer.parseInt(a.substring(a.lastIndexOf(':') + 1))))
            .toList());
    return NettyChannelBuilder.forTarget(SCHEME + ":///" + name)
        .defaultLoadBalancingPolicy("round_robin")
        .usePlaintext()
        .build();
  }

  private static final class Provider extends NameResolverProvider {
    @Override
    protected boolean isAvailable() {
      return true;
    }

    @Override
    protected int priority() {
      return 5;
    }

    @Override
    public String getDefaultScheme() {
      return SCHEME;
    }

    @Override
    public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
      return Set.of(InetSocketAddress.class);
    }

    @Override
    public NameResolver newNameResolver(URI target, NameResolver.Args args) {
      if (!SCHEME.equals(target.getScheme())) {
        return null;
      }
      List<InetSocketAddress> addresses = fleets.get(target.getPath().substring(1));
      return new NameResolver() {
        @Override
        public String getServiceAuthority() {
          return "watchparty-fleet";
        }

        @Override
        public void start(Listener2 listener) {
          listener.onResult(
              ResolutionResult.newBuilder()
                  .setAddresses(addresses.stream().map(EquivalentAddressGroup::new).toList())
                  .build());
        }

        @Override
        public void shutdown() {}
      };
    }
  }
}
