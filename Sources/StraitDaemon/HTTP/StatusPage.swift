/// The status page: one self-contained HTML document (no external assets) that draws
/// `/status` and refreshes itself.
///
/// It fetches `status` every 2 s and redraws: a header (version, uptime, ready or the reasons it
/// is not, the last error), the sites, each flow (totals, alarms, a per-partition table, and SVG
/// charts of lag and p99 replication latency per partition from `history`), the last checkpoint
/// per group and the recent events. Every value shown sits on an element with `data-` attributes
/// (`data-site`, `data-flow`, `data-partition`, `data-group`, `data-chart`/`data-series`,
/// `data-event`, and `data-updated` with the `nowMs` drawn) for tests and scrapers. Text from
/// the JSON goes in through text nodes and attributes only, never through markup. The page has
/// no backslash, so it needs no escaping in this string literal; keep it that way.
enum StatusPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="icon" href="data:,">
        <title>Strait</title>
        <style>
        :root {
          --bg: #f5f6f8; --card: #ffffff; --line: #e3e6eb; --text: #1f2430; --muted: #6b7280;
          --ok: #16794c; --ok-bg: #e3f5ec; --warn: #8a5a00; --warn-bg: #fff3d6; --bad: #b42318; --bad-bg: #fdeceb;
        }
        * { box-sizing: border-box; }
        body {
          margin: 0; background: var(--bg); color: var(--text);
          font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
        }
        main { max-width: 1240px; margin: 0 auto; padding: 20px 24px 40px; }
        header.top { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 20px; margin-bottom: 16px; }
        header.top h1 { font-size: 22px; margin: 0; font-weight: 650; }
        .meta { color: var(--muted); }
        .meta b { color: var(--text); font-weight: 600; }
        .pill { display: inline-block; padding: 1px 10px; border-radius: 999px; font-size: 12px; font-weight: 600; }
        .pill.ok { background: var(--ok-bg); color: var(--ok); }
        .pill.warn { background: var(--warn-bg); color: var(--warn); }
        .pill.bad { background: var(--bad-bg); color: var(--bad); }
        .pill.muted { background: #eceef2; color: var(--muted); }
        .banner { border-radius: 8px; padding: 8px 12px; margin: 0 0 12px; }
        .banner.warn { background: var(--warn-bg); color: var(--warn); }
        .banner.bad { background: var(--bad-bg); color: var(--bad); }
        .banner ul { margin: 4px 0 0; padding-left: 20px; }
        section.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; margin-bottom: 16px; }
        section.card > h2 { font-size: 16px; margin: 0 0 10px; font-weight: 650; }
        h3 { font-size: 14px; margin: 16px 0 8px; font-weight: 600; }
        .flow-title { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
        .flow-title h2 { font-size: 16px; margin: 0; font-weight: 650; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
        th { font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: 0.03em; }
        tbody tr:last-child td { border-bottom: none; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        td.wrap { white-space: normal; word-break: break-word; }
        .scroll { overflow-x: auto; }
        .stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(120px, 1fr)); gap: 8px; margin: 12px 0 4px; }
        .stat { background: var(--bg); border-radius: 8px; padding: 8px 10px; }
        .stat .label { font-size: 12px; color: var(--muted); }
        .stat .value { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
        .alarms { margin: 10px 0 0; padding: 0; list-style: none; }
        .alarms li { background: var(--bad-bg); color: var(--bad); border-radius: 6px; padding: 5px 10px; margin-bottom: 4px; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; margin-top: 8px; }
        .chart h4 { margin: 0 0 4px; font-size: 13px; font-weight: 600; }
        .chart h4 span { color: var(--muted); font-weight: 400; }
        .chart svg { width: 100%; height: auto; display: block; }
        .chart svg text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--muted); }
        .legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; color: var(--muted); margin-top: 2px; }
        .legend i { display: inline-block; width: 12px; height: 3px; border-radius: 2px; vertical-align: middle; margin-right: 5px; }
        .muted { color: var(--muted); }
        .empty { color: var(--muted); font-style: italic; padding: 4px 0; }
        .level-error { color: var(--bad); font-weight: 600; }
        .level-warning, .level-warn { color: var(--warn); font-weight: 600; }
        footer { color: var(--muted); font-size: 12px; text-align: right; }
        </style>
        </head>
        <body data-updated="">
        <main id="root">
        <header class="top"><h1>Strait</h1><span class="meta">loading /status</span></header>
        </main>
        <script>
        "use strict";
        const SVG_NS = "http://www.w3.org/2000/svg";
        const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563", "#65a30d", "#9333ea"];
        let lastDoc = null;
        let fetchError = null;
        let busy = false;

        // Elements: el("td", {class: "num", "data-lag": 3}, "text", childNode). Text always goes in as a text node.
        function el(tag, attrs, ...children) {
          const node = document.createElement(tag);
          setAttrs(node, attrs);
          append(node, children);
          return node;
        }
        function svg(tag, attrs, ...children) {
          const node = document.createElementNS(SVG_NS, tag);
          setAttrs(node, attrs);
          append(node, children);
          return node;
        }
        function setAttrs(node, attrs) {
          for (const [name, value] of Object.entries(attrs || {})) {
            if (value === null || value === undefined || value === false) continue;
            node.setAttribute(name, String(value));
          }
        }
        function append(node, children) {
          for (const child of children.flat()) {
            if (child === null || child === undefined || child === false) continue;
            node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
          }
        }

        // Formatting, without locale surprises.
        function groupDigits(n) {
          const s = String(Math.round(Math.abs(n)));
          let out = "";
          for (let i = 0; i < s.length; i++) {
            if (i > 0 && (s.length - i) % 3 === 0) out += ",";
            out += s[i];
          }
          return (n < 0 ? "-" : "") + out;
        }
        function int(n) { return n === null || n === undefined ? "—" : groupDigits(n); }
        function rate(n) {
          if (n === null || n === undefined) return "—";
          if (n === 0) return "0";
          if (Math.abs(n) >= 100) return groupDigits(n);
          return n.toFixed(Math.abs(n) >= 10 ? 1 : 2);
        }
        function bytes(n) {
          if (n === null || n === undefined) return "—";
          const units = ["B", "KiB", "MiB", "GiB", "TiB"];
          let v = n, u = 0;
          while (Math.abs(v) >= 1024 && u < units.length - 1) { v /= 1024; u++; }
          return (u === 0 ? String(Math.round(v)) : v.toFixed(v >= 100 ? 0 : 1)) + " " + units[u];
        }
        function ms(n) {
          if (n === null || n === undefined) return "—";
          if (n === 0) return "0 ms";
          if (n < 1) return n.toFixed(2) + " ms";
          if (n < 1000) return (n < 10 ? n.toFixed(1) : String(Math.round(n))) + " ms";
          if (n < 60000) return (n / 1000).toFixed(n < 10000 ? 2 : 1) + " s";
          return duration(n);
        }
        function duration(d) {
          let s = Math.max(0, Math.floor(d / 1000));
          const days = Math.floor(s / 86400); s -= days * 86400;
          const h = Math.floor(s / 3600); s -= h * 3600;
          const m = Math.floor(s / 60); s -= m * 60;
          if (days > 0) return days + " d" + (h > 0 ? " " + h + " h" : "");
          if (h > 0) return h + " h" + (m > 0 ? " " + m + " min" : "");
          if (m > 0) return m + " min" + (s > 0 ? " " + s + " s" : "");
          return s + " s";
        }
        function ago(timeMs, nowMs) {
          if (timeMs === null || timeMs === undefined) return "never";
          const s = Math.max(0, Math.round((nowMs - timeMs) / 1000));
          return (s < 120 ? s + " s" : duration(s * 1000)) + " ago";
        }
        function clock(timeMs) {
          const d = new Date(timeMs);
          const two = (n) => String(n).padStart(2, "0");
          return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
            two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
        }
        function levelPill(level) {
          const l = String(level || "").toLowerCase();
          const kind = l === "error" || l === "critical" ? "bad" : l.startsWith("warn") ? "warn" : "muted";
          return el("span", {class: "pill " + kind}, level);
        }

        // "east->west orders-0" -> {topic: "orders", partition: 0}
        function splitPartitionKey(rest) {
          const dash = rest.lastIndexOf("-");
          const number = dash >= 0 ? Number(rest.slice(dash + 1)) : NaN;
          return Number.isFinite(number) ? {topic: rest.slice(0, dash), partition: number} : {topic: rest, partition: -1};
        }
        function compareSeries(a, b) {
          const x = splitPartitionKey(a), y = splitPartitionKey(b);
          return x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : x.partition - y.partition;
        }

        function render(doc) {
          const root = document.getElementById("root");
          const parts = [header(doc)];
          if (fetchError) parts.push(el("div", {class: "banner bad", "data-fetch-error": fetchError}, "Cannot refresh from /status: " + fetchError + " (showing the last good data)"));
          if (!doc.ready) {
            parts.push(el("div", {class: "banner warn", "data-not-ready": (doc.notReady || []).join("; ")},
              el("b", {}, "Not ready"),
              el("ul", {}, (doc.notReady || []).map((reason) => el("li", {"data-reason": reason}, reason)))));
          }
          if (doc.lastError) {
            const e = doc.lastError;
            parts.push(el("div", {class: "banner bad", "data-last-error": e.message, "data-time-ms": e.timeMs, "data-source": e.source},
              el("b", {}, "Last error "), el("span", {}, ago(e.timeMs, doc.nowMs) + " (" + clock(e.timeMs) + ") in " + e.source + ": "),
              el("span", {}, e.message)));
          }
          parts.push(sites(doc));
          const flows = doc.flows || [];
          if (flows.length === 0) parts.push(el("section", {class: "card"}, el("h2", {}, "Flows"), el("div", {class: "empty"}, "No flow configured.")));
          for (const flow of flows) parts.push(flowCard(doc, flow));
          parts.push(groups(doc));
          parts.push(events(doc));
          parts.push(el("footer", {}, "Data of " + clock(doc.nowMs) + ", refreshed every 2 s from /status"));
          root.replaceChildren(...parts);
          root.setAttribute("data-updated", String(doc.nowMs));
          document.body.setAttribute("data-updated", String(doc.nowMs));
          document.title = (doc.ready ? "" : "(not ready) ") + "Strait " + doc.version;
        }

        function header(doc) {
          const status = doc.ready ? el("span", {class: "pill ok"}, "ready") : el("span", {class: "pill warn"}, "not ready");
          return el("header", {class: "top"},
            el("h1", {}, "Strait"),
            el("span", {class: "meta", "data-version": doc.version}, "version ", el("b", {}, doc.version)),
            el("span", {class: "meta", "data-uptime-ms": doc.nowMs - doc.startedMs}, "up ", el("b", {}, duration(doc.nowMs - doc.startedMs))),
            doc.http ? el("span", {class: "meta", "data-http": doc.http}, "http ", el("b", {}, doc.http)) : null,
            el("span", {"data-ready": String(doc.ready)}, status));
        }

        function sites(doc) {
          const list = doc.sites || [];
          const body = list.map((s) => {
            const kind = s.state === "listening" ? "ok" : s.state === "failed" ? "bad" : s.state === "external" ? "muted" : "warn";
            return el("tr", {"data-site": s.name, "data-embedded": String(s.embedded), "data-address": s.address, "data-state": s.state,
                "data-topics": s.topics, "data-partitions": s.partitions, "data-log-bytes": s.logBytes, "data-groups": s.groups,
                "data-connections": s.connections},
              el("td", {}, el("b", {}, s.name)),
              el("td", {}, s.embedded ? "embedded" : "external"),
              el("td", {}, s.address),
              el("td", {}, el("span", {class: "pill " + kind}, s.state)),
              el("td", {class: "num"}, int(s.topics)),
              el("td", {class: "num"}, int(s.partitions)),
              el("td", {class: "num"}, bytes(s.logBytes)),
              el("td", {class: "num"}, int(s.groups)),
              el("td", {class: "num"}, int(s.connections)),
              el("td", {class: "wrap muted"}, s.error ? el("span", {class: "level-error", "data-error": s.error}, s.error) : (s.dataDir || "")));
          });
          return el("section", {class: "card", id: "sites"}, el("h2", {}, "Sites"),
            list.length === 0 ? el("div", {class: "empty"}, "No site.") :
            el("div", {class: "scroll"}, el("table", {},
              el("thead", {}, el("tr", {}, el("th", {}, "Site"), el("th", {}, "Kind"), el("th", {}, "Address"), el("th", {}, "State"),
                el("th", {class: "num"}, "Topics"), el("th", {class: "num"}, "Partitions"), el("th", {class: "num"}, "Log size"),
                el("th", {class: "num"}, "Groups"), el("th", {class: "num"}, "Connections"), el("th", {}, "Data directory / error"))),
              el("tbody", {}, body))));
        }

        function stat(label, value, attrs) {
          return el("div", Object.assign({class: "stat"}, attrs || {}), el("div", {class: "label"}, label), el("div", {class: "value"}, value));
        }

        function flowCard(doc, flow) {
          const card = el("section", {class: "card flow", "data-flow": flow.flow, "data-source": flow.source, "data-target": flow.target,
            "data-records": flow.records, "data-bytes": flow.bytes, "data-record-rate": flow.recordRate, "data-byte-rate": flow.byteRate,
            "data-lag": flow.lag, "data-latency-p99": flow.latencyP99Ms, "data-last-checkpoint-ms": flow.lastCheckpointMs,
            "data-alarms": (flow.alarms || []).length});
          const alarmPill = (flow.alarms || []).length > 0 ? el("span", {class: "pill bad"}, flow.alarms.length + " alarm" + (flow.alarms.length === 1 ? "" : "s")) :
            el("span", {class: "pill ok"}, "no alarm");
          append(card, [el("div", {class: "flow-title"}, el("h2", {}, "Flow " + flow.flow),
            el("span", {class: "meta"}, flow.source + " to " + flow.target + ", " + int(flow.topics) + " topic" + (flow.topics === 1 ? "" : "s") + ", " +
              int(flow.assignedPartitions) + " partition" + (flow.assignedPartitions === 1 ? "" : "s")), alarmPill)]);
          append(card, [el("div", {class: "stats"},
            stat("Records", int(flow.records), {"data-stat": "records"}),
            stat("Records/s", rate(flow.recordRate), {"data-stat": "record-rate"}),
            stat("Bytes/s", bytes(flow.byteRate) + "/s", {"data-stat": "byte-rate"}),
            stat("Lag", int(flow.lag), {"data-stat": "lag"}),
            stat("p99 latency", ms(flow.latencyP99Ms), {"data-stat": "latency-p99"}),
            stat("Last checkpoint", ago(flow.lastCheckpointMs, doc.nowMs), {"data-stat": "last-checkpoint"}),
            stat("Copied", bytes(flow.bytes), {"data-stat": "bytes"}),
            stat("Restarts", int(flow.restarts), {"data-stat": "restarts"}))]);
          const details = [["batches forwarded", flow.batchesForwarded], ["rewritten", flow.batchesRewritten], ["records skipped", flow.recordsSkipped],
            ["data-loss events", flow.dataLossEvents], ["checkpoints", flow.checkpoints], ["heartbeats", flow.heartbeats], ["offset-map runs", flow.offsetMapRuns]];
          append(card, [el("div", {class: "meta", "data-flow-details": ""}, details.map(([k, v]) => k + " " + int(v)).join(" · "))]);
          if ((flow.alarms || []).length > 0) {
            append(card, [el("ul", {class: "alarms"}, flow.alarms.map((a) =>
              el("li", {"data-alarm": a.topic + "-" + a.partition, "data-stopped": String(a.stopped)},
                el("b", {}, a.topic + "-" + a.partition + (a.stopped ? " (stopped): " : ": ")), a.message)))]);
          }
          const partitions = (flow.partitions || []).slice().sort((a, b) => a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition);
          append(card, [el("h3", {}, "Partitions"), partitions.length === 0 ? el("div", {class: "empty"}, "No partition assigned yet.") :
            el("div", {class: "scroll"}, el("table", {},
              el("thead", {}, el("tr", {}, el("th", {}, "Topic"), el("th", {class: "num"}, "Partition"), el("th", {}, "Target topic"),
                el("th", {class: "num"}, "Source end"), el("th", {class: "num"}, "Position"), el("th", {class: "num"}, "Lag"),
                el("th", {class: "num"}, "Records"), el("th", {class: "num"}, "Records/s"), el("th", {class: "num"}, "p99 latency"))),
              el("tbody", {}, partitions.map((p) => el("tr", {"data-partition": flow.flow + " " + p.topic + "-" + p.partition, "data-topic": p.topic,
                  "data-partition-number": p.partition, "data-target-topic": p.targetTopic, "data-source-end": p.sourceEnd, "data-position": p.position,
                  "data-lag": p.lag, "data-records": p.records, "data-record-rate": p.recordRate, "data-latency-p99": p.latencyP99Ms},
                el("td", {class: "wrap"}, p.topic), el("td", {class: "num"}, p.partition), el("td", {class: "wrap"}, p.targetTopic),
                el("td", {class: "num"}, int(p.sourceEnd)), el("td", {class: "num"}, int(p.position)), el("td", {class: "num"}, int(p.lag)),
                el("td", {class: "num"}, int(p.records)), el("td", {class: "num"}, rate(p.recordRate)), el("td", {class: "num"}, ms(p.latencyP99Ms)))))))]);
          append(card, [el("div", {class: "charts"},
            chart(doc, flow.flow, "lag", "Lag", "records", int, (v) => trim(v)),
            chart(doc, flow.flow, "latency", "p99 replication latency", "", ms, (v, top) => top >= 1000 ? trim(v / 1000) + " s" : trim(v) + " ms"))]);
          return card;
        }

        // One chart: `kind` "lag" or "latency", one path per partition of `flowName` in `history`.
        function chart(doc, flowName, kind, title, unit, format, axis) {
          const all = doc.history || [];
          const prefix = flowName + " ";
          // From the first sample with one of this flow's partitions: the ones before have nothing to draw.
          const first = all.findIndex((sample) => Object.keys(sample.partitions || {}).some((key) => key.startsWith(prefix)));
          const history = first < 0 ? [] : all.slice(first);
          const names = new Set();
          for (const sample of history) {
            for (const key of Object.keys(sample.partitions || {})) if (key.startsWith(prefix)) names.add(key.slice(prefix.length));
          }
          const series = Array.from(names).sort(compareSeries);
          const value = (point) => {
            if (!point) return null;
            const v = kind === "lag" ? point.lag : point.latencyP99Ms;
            return typeof v === "number" && Number.isFinite(v) ? v : null;
          };
          let max = 0, measured = 0;
          for (const sample of history) for (const name of series) {
            const v = value((sample.partitions || {})[prefix + name]);
            if (v === null) continue;
            measured++;
            if (v > max) max = v;
          }
          const top = niceCeiling(max);
          const W = 560, H = 210, L = 58, R = 14, T = 14, B = 30;
          const plotW = W - L - R, plotH = H - T - B;
          const t0 = history.length > 0 ? history[0].timeMs : doc.nowMs;
          const t1 = history.length > 0 ? history[history.length - 1].timeMs : doc.nowMs;
          const span = t1 - t0;
          const x = (t) => span > 0 ? L + (t - t0) / span * plotW : L;
          const y = (v) => T + plotH - (top > 0 ? v / top * plotH : 0);
          const root = svg("svg", {viewBox: "0 0 " + W + " " + H, role: "img", "data-chart": kind + " " + flowName,
            "data-samples": history.length, "data-max": measured > 0 ? max : null, "data-span-ms": span, "aria-label": title + " of " + flowName});
          for (const f of [0, 0.5, 1]) {
            const gy = y(top * f);
            append(root, [svg("line", {x1: L, x2: W - R, y1: gy, y2: gy, stroke: f === 0 ? "#c8ccd3" : "#eceef2", "stroke-width": 1})]);
            append(root, [svg("text", {x: L - 6, y: gy + 4, "text-anchor": "end", "data-axis": f === 1 ? "y-max" : f === 0 ? "y-min" : "y-mid"}, axis(top * f, top))]);
          }
          append(root, [svg("line", {x1: L, x2: L, y1: T, y2: T + plotH, stroke: "#c8ccd3", "stroke-width": 1})]);
          const spanText = all.length === 0 ? "no samples yet" : history.length === 0 ? "no data" : history.length === 1 ? "1 sample" : "last " + duration(span);
          append(root, [
            svg("text", {x: L, y: H - 10, "text-anchor": "start", "data-axis": "x-start"}, history.length > 1 ? "-" + duration(span) : ""),
            svg("text", {x: L + plotW / 2, y: H - 10, "text-anchor": "middle", "data-axis": "x-span"}, spanText),
            svg("text", {x: W - R, y: H - 10, "text-anchor": "end", "data-axis": "x-end"}, history.length > 0 ? "now" : "")]);
          if (measured === 0) {
            const note = all.length === 0 ? "waiting for the first sample" : series.length === 0 ? "no partition yet" : "nothing measured in this window";
            append(root, [svg("text", {x: L + plotW / 2, y: T + plotH / 2 - 6, "text-anchor": "middle", "data-note": ""}, note)]);
          }
          series.forEach((name, i) => {
            const color = COLORS[i % COLORS.length];
            let d = "", pen = false, points = 0;
            for (const sample of history) {
              const v = value((sample.partitions || {})[prefix + name]);
              if (v === null) { pen = false; continue; }
              const px = x(sample.timeMs).toFixed(1), py = y(v).toFixed(1);
              if (history.length === 1) {
                d += "M" + L + " " + py + "L" + (W - R) + " " + py;
              } else {
                d += (pen ? "L" : "M") + px + " " + py;
              }
              pen = true; points++;
            }
            const path = svg("path", {d: d, fill: "none", stroke: color, "stroke-width": 1.8, "stroke-linejoin": "round", "stroke-linecap": "round",
              "data-series": name, "data-points": points}, svg("title", {}, name));
            append(root, [path]);
            // A lone point between gaps would be invisible as a path: mark it.
            history.forEach((sample, k) => {
              const v = value((sample.partitions || {})[prefix + name]);
              if (v === null || history.length === 1) return;
              const before = k > 0 ? value((history[k - 1].partitions || {})[prefix + name]) : null;
              const after = k < history.length - 1 ? value((history[k + 1].partitions || {})[prefix + name]) : null;
              if (before === null && after === null) append(root, [svg("circle", {cx: x(sample.timeMs).toFixed(1), cy: y(v).toFixed(1), r: 2.5, fill: color})]);
            });
          });
          const legend = el("div", {class: "legend"}, series.map((name, i) =>
            el("span", {"data-legend": name}, el("i", {style: "background:" + COLORS[i % COLORS.length]}), name)));
          return el("div", {class: "chart"},
            el("h4", {}, title + (unit ? " (" + unit + ")" : "") + " ", el("span", {}, "· max " + (measured > 0 ? format(max) : "—") + " · " + spanText)),
            root, series.length > 0 ? legend : null);
        }

        function trim(v) { return String(Number(v.toFixed(2))); }
        function niceCeiling(v) {
          if (!(v > 0)) return 1;
          const p = Math.pow(10, Math.floor(Math.log10(v)));
          for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
          return 10 * p;
        }

        function groups(doc) {
          const rows = [];
          for (const flow of doc.flows || []) for (const g of flow.groups || []) rows.push([flow, g]);
          rows.sort((a, b) => b[1].lastCheckpointMs - a[1].lastCheckpointMs);
          return el("section", {class: "card", id: "groups"}, el("h2", {}, "Last checkpoint per group"),
            rows.length === 0 ? el("div", {class: "empty"}, "No group checkpointed yet.") :
            el("div", {class: "scroll"}, el("table", {},
              el("thead", {}, el("tr", {}, el("th", {}, "Group"), el("th", {}, "Flow"), el("th", {}, "Last checkpoint"), el("th", {}, "At"),
                el("th", {class: "num"}, "Partitions"))),
              el("tbody", {}, rows.map(([flow, g]) => el("tr", {"data-group": g.group, "data-flow": flow.flow,
                  "data-last-checkpoint-ms": g.lastCheckpointMs, "data-partitions": g.partitions},
                el("td", {class: "wrap"}, el("b", {}, g.group)), el("td", {}, flow.flow), el("td", {}, ago(g.lastCheckpointMs, doc.nowMs)),
                el("td", {class: "muted"}, clock(g.lastCheckpointMs)), el("td", {class: "num"}, int(g.partitions))))))));
        }

        function events(doc) {
          const list = (doc.events || []).slice().reverse();
          return el("section", {class: "card", id: "events"}, el("h2", {}, "Recent events"),
            list.length === 0 ? el("div", {class: "empty"}, "No warning or error.") :
            el("div", {class: "scroll"}, el("table", {},
              el("thead", {}, el("tr", {}, el("th", {}, "Time"), el("th", {}, "Level"), el("th", {}, "Source"), el("th", {}, "Message"))),
              el("tbody", {}, list.map((e) => el("tr", {"data-event": e.level, "data-time-ms": e.timeMs, "data-source": e.source},
                el("td", {class: "muted"}, clock(e.timeMs)), el("td", {}, levelPill(e.level)), el("td", {}, e.source),
                el("td", {class: "wrap"}, e.message)))))));
        }

        async function refresh() {
          if (busy) return;
          busy = true;
          try {
            const response = await fetch("status", {cache: "no-store"});
            if (!response.ok) throw new Error("HTTP " + response.status);
            lastDoc = await response.json();
            fetchError = null;
          } catch (error) {
            fetchError = String(error && error.message ? error.message : error);
          } finally {
            busy = false;
          }
          if (lastDoc) {
            try { render(lastDoc); } catch (error) { showFailure("cannot draw /status: " + error); }
          } else {
            showFailure("cannot load /status: " + fetchError);
          }
        }
        function showFailure(message) {
          const root = document.getElementById("root");
          root.replaceChildren(el("header", {class: "top"}, el("h1", {}, "Strait")), el("div", {class: "banner bad", "data-fetch-error": message}, message));
        }
        refresh();
        setInterval(refresh, 2000);
        </script>
        </body>
        </html>
        """
}
