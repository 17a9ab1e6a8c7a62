package io.backupkit.ops;

import io.backupkit.Snapshot;
import io.backupkit.ops.internal.Runs;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A one-page, self-contained HTML report of a repository (no scripts, fonts, images or styles
 * fetched from anywhere: charts are inline SVG): RPO and the last drill's RTO against their targets,
 * warnings (stale, failed, unverified), the recoverable window, sizes and dedup over time, every
 * snapshot, and recent runs.
 *
 * <pre>{@code
 * RepositoryStatus status = RepositoryStatus.read(repo, Targets.of(Duration.ofHours(25), Duration.ofMinutes(30)), Instant.now());
 * Files.writeString(Path.of("backups.html"), HtmlReport.render(status, ZoneId.of("Europe/Berlin")));
 * }</pre>
 */
public final class HtmlReport {
    private static final int MAX_RUNS = 100;

    private HtmlReport() {
    }

    public static String render(RepositoryStatus s, ZoneId zone) {
        DateTimeFormatter fmt = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z", Locale.ROOT).withZone(zone);
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .append("<title>backupkit report: ").append(esc(s.location())).append("</title><style>")
                .append("body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em;color:#1b1f24;background:#fff}")
                .append("h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}")
                .append(".muted{color:#5b6470}.cards{display:flex;flex-wrap:wrap;gap:1em}")
                .append(".card{border:1px solid #d0d7de;border-radius:6px;padding:.8em 1.2em;min-width:14em}")
                .append(".card .v{font-size:1.5em;font-weight:600}.ok{color:#1a7f37}.bad{color:#cf222e}.warn{color:#9a6700}")
                .append("table{border-collapse:collapse;font-size:.9em;margin-top:.5em}th,td{border-bottom:1px solid #eaeef2;padding:.3em .7em;text-align:left}")
                .append("td.n{text-align:right;font-variant-numeric:tabular-nums}code{font-size:.95em}")
                .append("ul.warnings li{margin:.3em 0}svg{background:#fafbfc;border:1px solid #eaeef2}")
                .append("</style></head><body>\n");
        h.append("<h1>backupkit report</h1><div class=\"muted\">repository <code id=\"repository\">").append(esc(s.location()))
                .append("</code> · generated ").append(fmt.format(s.checked())).append("</div>\n");

        // ---- summary cards
        h.append("<h2>Recovery objectives</h2><div class=\"cards\">");
        String rpo = s.rpo().map(Runs::human).orElse("none");
        h.append(card("rpo", "RPO (age of the newest recoverable point)", rpo,
                s.rpoTarget() == null ? "no target set" : "target " + Runs.human(s.rpoTarget()) + " · "
                        + (s.rpoExceeded() ? "EXCEEDED" : "met"),
                s.rpoTarget() == null ? "" : s.rpoExceeded() ? "bad" : "ok"));
        RunRecord drill = s.lastDrill();
        String rto = drill == null ? "no drill" : drill.succeeded() ? Runs.human(Duration.ofMillis(drill.durationMillis())) : "drill FAILED";
        String rtoNote = (s.rtoTarget() == null ? "no target set" : "target " + Runs.human(s.rtoTarget()) + " · "
                + (s.rtoExceeded() ? "EXCEEDED" : "met"))
                + (drill == null ? "" : " · drill of " + fmt.format(drill.finished()));
        h.append(card("rto", "RTO (last restore drill)", rto, rtoNote, s.rtoTarget() == null ? (drill != null && !drill.succeeded() ? "bad" : "")
                : s.rtoExceeded() ? "bad" : "ok"));
        h.append(card("snapshot-count", "Snapshots", Integer.toString(s.snapshots().size()),
                s.latest().map(l -> "newest " + fmt.format(l.time())).orElse("none"), s.snapshots().isEmpty() ? "bad" : ""));
        String window = s.snapshots().isEmpty() ? "none" : fmt.format(s.snapshots().get(0).time()) + " → "
                + fmt.format(s.newestRecoverablePoint());
        h.append(card("window", "Recoverable window", window, s.snapshots().size() + " restore point(s)"
                + (s.archiveLag() == null ? "" : " · WAL archive lag " + Runs.human(s.archiveLag())), ""));
        h.append("</div>\n");

        // ---- warnings
        h.append("<h2>Warnings</h2>");
        if (s.warnings().isEmpty()) {
            h.append("<p id=\"warnings\" class=\"ok\">None: backups are recent, verified and within their targets.</p>");
        } else {
            h.append("<ul id=\"warnings\" class=\"warnings\">");
            for (String w : s.warnings()) {
                h.append("<li class=\"bad\">").append(esc(w)).append("</li>");
            }
            h.append("</ul>");
        }

        // ---- charts
        List<Snapshot> snaps = s.snapshots();
        if (!snaps.isEmpty()) {
            h.append("\n<h2>Sizes and deduplication over time</h2>");
            h.append(barChart(snaps, fmt));
            h.append(lineChart(snaps));
        }

        // ---- snapshots
        h.append("\n<h2>Snapshots</h2><table id=\"snapshots\"><tr><th>snapshot</th><th>time</th><th>source</th><th>host</th>")
                .append("<th>read</th><th>stored</th><th>dedup</th><th>duration</th><th>verification</th></tr>");
        for (int i = snaps.size() - 1; i >= 0; i--) {
            Snapshot x = snaps.get(i);
            RunRecord.Verification v = s.verifications().get(x.id());
            h.append("<tr class=\"snapshot\" data-snapshot-id=\"").append(x.id()).append("\"><td><code title=\"").append(x.id())
                    .append("\">").append(x.shortId()).append("</code></td><td>").append(fmt.format(x.time())).append("</td><td>")
                    .append(esc(x.source())).append("</td><td>").append(esc(x.hostname())).append("</td><td class=\"n\">")
                    .append(bytes(x.bytesRead())).append("</td><td class=\"n\">").append(bytes(x.bytesStored()))
                    .append("</td><td class=\"n\">").append(x.bytesStored() == 0 ? "–" : String.format(Locale.ROOT, "%.1fx",
                            (double) x.bytesRead() / x.bytesStored())).append("</td><td class=\"n\">")
                    .append(Runs.human(Duration.ofMillis(x.durationMillis()))).append("</td><td>")
                    .append(v == null ? "<span class=\"warn\">unverified</span>" : v.passed()
                            ? "<span class=\"ok\">" + esc(v.level()) + " passed</span>"
                            : "<span class=\"bad\">" + esc(v.level()) + " FAILED</span>")
                    .append("</td></tr>");
        }
        h.append("</table>\n");

        // ---- runs
        List<RunRecord> runs = s.runs();
        h.append("<h2>Recent runs</h2>");
        if (runs.isEmpty()) {
            h.append("<p class=\"muted\">No scheduled runs recorded (runs are recorded by the scheduler and backupkit schedule).</p>");
        } else {
            h.append("<table id=\"runs\"><tr><th>finished</th><th>job</th><th>kind</th><th>status</th><th>snapshot</th>")
                    .append("<th>duration</th><th>attempts</th><th>error</th></tr>");
            for (int i = runs.size() - 1; i >= Math.max(0, runs.size() - MAX_RUNS); i--) {
                RunRecord r = runs.get(i);
                h.append("<tr class=\"run\"><td>").append(fmt.format(r.finished())).append("</td><td>").append(esc(r.job()))
                        .append("</td><td>").append(esc(r.kind())).append("</td><td class=\"").append(r.succeeded() ? "ok" : "bad")
                        .append("\">").append(esc(r.status())).append("</td><td><code>")
                        .append(r.snapshot() == null ? "" : esc(r.snapshot().substring(0, Math.min(8, r.snapshot().length()))))
                        .append("</code></td><td class=\"n\">").append(Runs.human(Duration.ofMillis(r.durationMillis())))
                        .append("</td><td class=\"n\">").append(r.attempts()).append("</td><td>")
                        .append(r.error() == null ? "" : esc(r.error())).append("</td></tr>");
            }
            h.append("</table>");
        }
        h.append("\n<p class=\"muted\">backupkit · RPO is measured to the newest recoverable point; RTO is the wall time of the "
                + "last restore drill (a restore into a scratch database, compared with the snapshot).</p></body></html>\n");
        return h.toString();
    }

    private static String card(String id, String title, String value, String note, String cls) {
        return "<div class=\"card\" id=\"" + id + "\"><div class=\"muted\">" + esc(title) + "</div><div class=\"v " + cls + "\">"
                + esc(value) + "</div><div class=\"muted " + cls + "\">" + esc(note) + "</div></div>";
    }

    /** Bytes read and stored per snapshot, two bars each, on one linear scale. */
    private static String barChart(List<Snapshot> snaps, DateTimeFormatter fmt) {
        int w = 760;
        int hgt = 220;
        int left = 60;
        int bottom = 30;
        long max = Math.max(1, snaps.stream().mapToLong(x -> Math.max(x.bytesRead(), x.bytesStored())).max().orElse(1));
        double slot = (double) (w - left - 10) / snaps.size();
        double bw = Math.max(1, Math.min(24, slot / 2.5));
        StringBuilder b = new StringBuilder();
        b.append("<figure><svg id=\"chart-sizes\" role=\"img\" aria-label=\"bytes read and stored per snapshot\" width=\"").append(w)
                .append("\" height=\"").append(hgt).append("\" viewBox=\"0 0 ").append(w).append(' ').append(hgt)
                .append("\" xmlns=\"http://www.w3.org/2000/svg\">");
        b.append("<text x=\"4\" y=\"14\" font-size=\"11\" fill=\"#5b6470\">").append(esc(bytes(max))).append("</text>");
        b.append("<line x1=\"").append(left).append("\" y1=\"").append(hgt - bottom).append("\" x2=\"").append(w - 5).append("\" y2=\"")
                .append(hgt - bottom).append("\" stroke=\"#8c959f\"/>");
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < snaps.size(); i++) {
            Snapshot x = snaps.get(i);
            double x0 = left + i * slot + (slot - 2 * bw) / 2;
            double hr = (hgt - bottom - 20) * (double) x.bytesRead() / max;
            double hs = (hgt - bottom - 20) * (double) x.bytesStored() / max;
            b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#54aeff\"><title>%s read %s</title></rect>",
                    x0, hgt - bottom - hr, bw, hr, x.shortId(), esc(bytes(x.bytesRead()))));
            b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1a7f37\"><title>%s stored %s</title></rect>",
                    x0 + bw, hgt - bottom - hs, bw, hs, x.shortId(), esc(bytes(x.bytesStored()))));
            if (snaps.size() <= 12 || i % Math.max(1, snaps.size() / 12) == 0) {
                labels.add(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" fill=\"#5b6470\">%s</text>", x0,
                        hgt - bottom + 14, x.shortId()));
            }
        }
        labels.forEach(b::append);
        b.append("</svg><figcaption class=\"muted\"><span style=\"color:#54aeff\">■</span> bytes read · ")
                .append("<span style=\"color:#1a7f37\">■</span> new bytes stored, per snapshot (oldest left)</figcaption></figure>");
        return b.toString();
    }

    /** Dedup ratio per snapshot and the repository's cumulative stored bytes. */
    private static String lineChart(List<Snapshot> snaps) {
        int w = 760;
        int hgt = 180;
        int left = 60;
        double maxRatio = 1;
        long total = 0;
        long[] cumulative = new long[snaps.size()];
        double[] ratio = new double[snaps.size()];
        for (int i = 0; i < snaps.size(); i++) {
            Snapshot x = snaps.get(i);
            total += x.bytesStored();
            cumulative[i] = total;
            ratio[i] = x.bytesStored() == 0 ? 0 : (double) x.bytesRead() / x.bytesStored();
            maxRatio = Math.max(maxRatio, ratio[i]);
        }
        double step = snaps.size() == 1 ? 0 : (double) (w - left - 20) / (snaps.size() - 1);
        StringBuilder pr = new StringBuilder();
        StringBuilder pc = new StringBuilder();
        for (int i = 0; i < snaps.size(); i++) {
            double x = left + i * step;
            pr.append(String.format(Locale.ROOT, "%s%.1f,%.1f", i == 0 ? "" : " ", x, hgt - 20 - (hgt - 40) * ratio[i] / maxRatio));
            pc.append(String.format(Locale.ROOT, "%s%.1f,%.1f", i == 0 ? "" : " ", x, hgt - 20 - (hgt - 40) * (double) cumulative[i] / Math.max(1, total)));
        }
        return "<figure><svg id=\"chart-dedup\" role=\"img\" aria-label=\"dedup ratio and repository growth\" width=\"" + w + "\" height=\""
                + hgt + "\" viewBox=\"0 0 " + w + " " + hgt + "\" xmlns=\"http://www.w3.org/2000/svg\">"
                + "<text x=\"4\" y=\"14\" font-size=\"11\" fill=\"#5b6470\">" + String.format(Locale.ROOT, "%.1fx", maxRatio) + "</text>"
                + "<polyline fill=\"none\" stroke=\"#8250df\" stroke-width=\"2\" points=\"" + pr + "\"/>"
                + "<polyline fill=\"none\" stroke=\"#bc4c00\" stroke-width=\"2\" stroke-dasharray=\"4 3\" points=\"" + pc + "\"/>"
                + "</svg><figcaption class=\"muted\"><span style=\"color:#8250df\">—</span> dedup ratio (read / stored) · "
                + "<span style=\"color:#bc4c00\">- -</span> repository size, cumulative (" + esc(bytes(total)) + ")</figcaption></figure>";
    }

    static String bytes(long b) {
        if (b < 1024) {
            return b + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = b;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

}
