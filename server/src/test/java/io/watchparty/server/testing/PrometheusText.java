package io.watchparty.server.testing;

import java.util.Map;

/** Reads samples from Prometheus text, as served on the server's and the bridge's metrics pages. */
public final class PrometheusText {
  private PrometheusText() {}

  /**
   * The sum of the samples of {@code name} whose labels include each of {@code labels} (0 if there
   * is none): a counter read the way a scraper sums it over the label sets it did not ask about.
   */
  public static double sum(String text, String name, Map<String, String> labels) {
    return text.lines()
        .filter(line -> line.startsWith(name + "{") || line.startsWith(name + " "))
        .filter(
            line ->
                labels.entrySet().stream()
                    .allMatch(
                        label -> line.contains(label.getKey() + "=\"" + label.getValue() + "\"")))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
        .sum();
  }
}
