package io.watchparty.loadtest;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The report's pictures, drawn by JFreeChart: latency by percentile (the x axis is 1/(1-p), so p90,
 * p99 and p99.9 are evenly spaced, as in HdrHistogram's own plots; with churn, reactions and slow
 * viewers' latencies when the run had them) and deliveries per second over the measured window.
 */
final class Charts {
  private static final int WIDTH = 1000;
  private static final int HEIGHT = 600;

  private Charts() {}

  static void write(Report report, Path directory) throws IOException {
    System.setProperty("java.awt.headless", "true");
    latencyByPercentile(report, directory.resolve("latency-percentiles.png"));
    throughput(report, directory.resolve("throughput.png"));
    if (report.platform().sync().isPresent()) {
      syncError(report.platform().sync().get(), directory.resolve("sync-error.png"));
    }
  }

  private static void latencyByPercentile(Report report, Path file) throws IOException {
    var series = new XYSeriesCollection();
    report
        .baseline()
        .ifPresent(
            b -> {
              add(series, "baseline: command -> each viewer", b.each());
              add(series, "baseline: command -> last viewer", b.last());
            });
    report
        .sseBaseline()
        .flatMap(RunResult::sse)
        .ifPresent(sse -> add(series, "bare SSE: command -> each SSE tab", sse.each()));
    RunResult p = report.platform();
    add(series, "platform: command -> each viewer", p.each());
    add(series, "platform: command -> last viewer", p.last());
    p.sse().ifPresent(sse -> add(series, "platform: command -> each SSE tab", sse.each()));
    if (p.chat().sendToDeliver().getTotalCount() > 0) {
      add(series, "platform: chat send -> deliver", p.chat().sendToDeliver());
    }
    SideLoadResult side = p.sideLoads();
    side.churn().ifPresent(c -> add(series, "platform: churn join -> snapshot", c.join()));
    side.reactions()
        .ifPresent(r -> add(series, "platform: reaction send -> deliver", r.sendToDeliver()));
    side.slow().ifPresent(s -> add(series, "platform: command -> each slow viewer", s.each()));
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            "Latency by percentile",
            "percentile (1/(1-p): 10 = p90, 100 = p99, 1000 = p99.9)",
            "latency (ms)",
            series,
            PlotOrientation.VERTICAL,
            true,
            false,
            false);
    XYPlot plot = style(chart);
    var x = new LogAxis(plot.getDomainAxis().getLabel());
    x.setBase(10);
    x.setSmallestValue(1);
    x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    plot.setDomainAxis(x);
    ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
  }

  private static void add(XYSeriesCollection collection, String name, Histogram h) {
    if (h.getTotalCount() == 0) {
      return;
    }
    var series = new XYSeries(name, false);
    for (HistogramIterationValue v : h.percentiles(5)) {
      double p = v.getPercentileLevelIteratedTo() / 100;
      if (p >= 1) {
        break;
      }
      series.add(1 / (1 - p), h.highestEquivalentValue(v.getValueIteratedTo()) / 1e3);
    }
    series.add(1 / (1 - Math.min(0.99999, 1 - 1.0 / h.getTotalCount())), h.getMaxValue() / 1e3);
    collection.addSeries(series);
  }

  private static void throughput(Report report, Path file) throws IOException {
    var series = new XYSeriesCollection();
    report
        .baseline()
        .ifPresent(b -> series.addSeries(timeline("baseline: gRPC deliveries/s", b, false)));
    report
        .sseBaseline()
        .filter(r -> r.sse().isPresent())
        .ifPresent(r -> series.addSeries(timeline("bare SSE: SSE events/s", r, true)));
    RunResult p = report.platform();
    series.addSeries(timeline("platform: gRPC deliveries/s", p, false));
    Optional.of(p)
        .filter(r -> r.sse().isPresent())
        .ifPresent(r -> series.addSeries(timeline("platform: SSE events/s", r, true)));
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            "Deliveries per second over the measured window",
            "seconds since the first command",
            "messages per second",
            series,
            PlotOrientation.VERTICAL,
            true,
            false,
            false);
    style(chart);
    ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
  }

  private static void syncError(RunResult.Sync sync, Path file) throws IOException {
    var series = new XYSeries("worst player's error against the first", false);
    for (RunResult.SyncPoint point : sync.timeline()) {
      series.add(point.seconds(), point.worstErrorMs());
    }
    JFreeChart chart =
        ChartFactory.createScatterPlot(
            "Playback sync error between " + sync.players() + " simulated players (while playing)",
            "seconds since sampling started",
            "error (ms)",
            new XYSeriesCollection(series),
            PlotOrientation.VERTICAL,
            true,
            false,
            false);
    style(chart);
    ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
  }

  private static XYPlot style(JFreeChart chart) {
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    for (int i = 0; i < plot.getSeriesCount(); i++) {
      plot.getRenderer().setSeriesStroke(i, new BasicStroke(2f));
    }
    return plot;
  }

  private static XYSeries timeline(String name, RunResult run, boolean sse) {
    var series = new XYSeries(name, false);
    for (RunResult.TimelinePoint point : run.timeline()) {
      series.add(point.seconds(), sse ? point.ssePerSecond() : point.grpcPerSecond());
    }
    return series;
  }
}
