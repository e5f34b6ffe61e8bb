package io.watchparty.server.catalog;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Stream;

/**
 * The demo catalog of a local installation ({@code demo/titles.tsv} on the classpath): public
 * domain films and open movies, the same titles the web page and the load tests use, and their
 * availability in 12 regions ({@code demo/availability.tsv}), with gaps, windows closing soon and
 * windows opening later. Windows are relative to the install time, so the demo stays interesting.
 */
public final class DemoCatalog {
  private static final String RESOURCE = "/demo/titles.tsv";
  private static final String AVAILABILITY = "/demo/availability.tsv";

  private DemoCatalog() {}

  /** Every demo title, in file order. */
  public static List<Title> titles() {
    return rows(RESOURCE).stream()
        .map(
            f ->
                new Title(
                    f[0],
                    f[1],
                    Long.parseLong(f[2]) * 1000,
                    "/media/" + f[0] + ".mp4",
                    f[4],
                    Integer.parseInt(f[3])))
        .toList();
  }

  /** The demo matrix as (title, region, window), windows placed relative to {@code now}. */
  public static List<Entry> availability(Instant now) {
    return rows(AVAILABILITY).stream()
        .map(
            f -> new Entry(f[0], f[1], new LicenceWindow(daysFrom(now, f[2]), daysFrom(now, f[3]))))
        .toList();
  }

  /** One cell of the demo matrix. */
  public record Entry(String titleId, String region, LicenceWindow window) {}

  /**
   * Writes the demo titles and their availability (idempotent up to the relative windows), all at
   * once; completes when every write is stored.
   */
  public static CompletableFuture<Void> install(
      TitleCatalog catalog, AvailabilityMatrix matrix, Instant now) {
    Stream<CompletionStage<?>> titles = titles().stream().map(catalog::put);
    Stream<CompletionStage<?>> windows =
        availability(now).stream().map(e -> matrix.set(e.titleId(), e.region(), e.window()));
    return CompletableFuture.allOf(
        Stream.concat(titles, windows)
            .map(CompletionStage::toCompletableFuture)
            .toArray(CompletableFuture[]::new));
  }

  private static Optional<Instant> daysFrom(Instant now, String days) {
    return days.isEmpty()
        ? Optional.empty()
        : Optional.of(now.plus(Duration.ofDays(Long.parseLong(days))));
  }

  /** The tab-separated rows of a resource, without comments and the header line. */
  private static List<String[]> rows(String resource) {
    try (InputStream in = DemoCatalog.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is missing from the classpath");
      }
      var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      List<String[]> rows = new ArrayList<>();
      boolean header = true;
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        if (header) {
          header = false;
          continue;
        }
        rows.add(line.split("\t", -1));
      }
      return rows;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
