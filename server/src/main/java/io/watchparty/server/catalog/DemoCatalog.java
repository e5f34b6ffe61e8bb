package io.watchparty.server.catalog;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo catalog of a local installation ({@code demo/titles.tsv} on the classpath): public
 * domain films and open movies, the same titles the web page and the load tests use.
 */
public final class DemoCatalog {
  private static final String RESOURCE = "/demo/titles.tsv";

  private DemoCatalog() {}

  /** Every demo title, in file order. */
  public static List<Title> titles() {
    try (InputStream in = DemoCatalog.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from the classpath");
      }
      var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      List<Title> titles = new ArrayList<>();
      reader.readLine(); // header
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.split("\t", -1);
        titles.add(
            new Title(
                f[0], f[1], Long.parseLong(f[2]) * 1000, "/media/" + f[0] + ".mp4", f[4],
                Integer.parseInt(f[3])));
      }
      return List.copyOf(titles);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the demo titles into the catalog (idempotent). */
  public static void install(TitleCatalog catalog) {
    titles().forEach(catalog::put);
  }
}
