/**
 * The HTML report of a run: one self-contained page (inline CSS and SVG, no script, no
 * font or style fetched from anywhere) with the run's timeline — replica lanes, fault
 * bands, every request's latency, messages per 100 ms — beside the course's score and
 * our extra checks. Pure: a run's result in, an HTML string out.
 *
 * @module
 */

import type { RunResult } from "./simulation.ts";
import { failures, percentile } from "./stats.ts";
import { METRIC_TITLES, TIER_NAMES } from "./score.ts";
import {
  type Lane,
  type Outcome,
  type RequestPoint,
  type Role,
  type Timeline,
  TRAFFIC_BUCKET_MS,
} from "./timeline.ts";

/** Width of the chart's coordinate system; the page scales it to its column. */
const CHART_WIDTH = 900;
/** Room left of the plots for replica ids, tick labels and the rotated axis titles. */
const PLOT_LEFT = 84;
const PLOT_RIGHT = CHART_WIDTH - 14;
const PLOT_WIDTH = PLOT_RIGHT - PLOT_LEFT;
/** Height of the scatter plot of latencies, and of its "no reply" strip above it. */
const LATENCY_HEIGHT = 250;
const NO_REPLY_HEIGHT = 16;
const TRAFFIC_HEIGHT = 90;
/** Gap between panels; a panel's heading sits in it. */
const PANEL_GAP = 30;
const EVENT_ROW_HEIGHT = 14;
const LEGEND_ROW_HEIGHT = 18;
/** Rough width of one character of the 11 px sans-serif text, to lay out labels. */
const CHAR_WIDTH = 6.4;
/** At least this many decades on the latency axis, so one spike does not flatten the rest. */
const MIN_LATENCY_DECADES = 3;
/** The traffic axis ends near this percentile of the non-empty buckets times the headroom. */
const TRAFFIC_AXIS_PERCENTILE = 98;
const TRAFFIC_AXIS_HEADROOM = 2;
/** At most this many time ticks. */
const MAX_TIME_TICKS = 16;

/** Colours: Okabe–Ito for replies (distinguishable with colour blindness), muted for roles. */
const OUTCOME_COLORS: Record<Outcome, string> = {
  get_ok: "#0072b2",
  put_ok: "#009e73",
  redirect: "#e69f00",
  fail: "#d55e00",
  unanswered: "#222222",
};
const OUTCOME_LABELS: Record<Outcome, string> = {
  get_ok: "get ok",
  put_ok: "put ok",
  redirect: "redirect",
  fail: "fail",
  unanswered: "unanswered",
};
const ROLE_COLORS: Record<Role, string> = {
  follower: "#d9dde3",
  candidate: "#f5c242",
  leader: "#6a3d9a",
  dead: "#4a4a4a",
};
const MAJORITY_COLOR = "#2a9d8f";
const MINORITY_COLOR = "#e76f51";
const PARTITION_FILL = "#f4a6a6";
const PARTITION_LINE = "#b03060";
const HEAL_LINE = "#2a7f62";
const KILL_LINE = "#111111";
const DUPLICATE_COLOR = "#cc0099";
const INCORRECT_COLOR = "#e00000";
const SENT_COLOR = "#8da0cb";
const DROPPED_COLOR = "#d62728";

/** Tier names short enough for the score panel; the course's names are in the tooltips. */
const TIER_SHORT_NAMES = ["Bonus", "Full", "Partial", "None"] as const;

/** What {@linkcode renderReport} draws. */
export interface ReportInput {
  /** The config's path or name, shown as the title. */
  name: string;
  /** The run. */
  result: RunResult;
}

/**
 * Renders one run as a self-contained HTML page.
 *
 * @param input The run and its name.
 * @returns The page.
 */
export function renderReport(input: ReportInput): string {
  const { name, result } = input;
  const title = `${name}: ${result.passed ? "PASS" : "FAIL"}`;
  return page(
    title,
    `<header><h1>${escape(name)} ${verdictBadge(result)}</h1><p>${
      escape(runSummary(result))
    }</p></header>
<main><section class="chart">${renderTimelineSvg(result.timeline)}
<p class="note">Times are seconds since the simulator started the replicas; clients send from
${
      seconds(result.config.startWaitS * 1000)
    } s on. Hover over a point for its request, over a lane for its role.</p></section>
<aside>${scorePanel(result)}${extrasPanel(result)}${countersPanel(result)}</aside></main>`,
  );
}

/** One run listed on the index page of `sim all --report DIR`. */
export interface IndexEntry {
  /** The config's name. */
  name: string;
  /** The report's file, relative to the index. */
  href: string;
  /** The run. */
  result: RunResult;
}

/**
 * Renders the index of `sim all --report DIR`: one row per run, linking its report.
 *
 * @param entries The runs, in order.
 * @returns The page.
 */
export function renderIndex(entries: readonly IndexEntry[]): string {
  const passed = entries.filter((entry) => entry.result.passed).length;
  const head = ["config", "ours", "course"].map((cell) => `<th>${cell}</th>`).join("") +
    Object.entries(METRIC_TITLES).map(([metric, title]) =>
      `<th title="${escape(title)}">${escape(metric)}</th>`
    ).join("");
  const rows = entries.map(({ name, href, result }) => {
    const metrics = result.metrics.map((metric) =>
      `<td class="tier${metric.tier}">${escape(metricText(metric.metric, metric.value))} <small>${
        TIER_NAMES[metric.tier]
      }</small></td>`
    ).join("");
    return `<tr><td><a href="${escape(href)}">${escape(name)}</a></td><td>${
      verdictBadge(result)
    }</td><td>${result.coursePassed ? "PASS" : "FAIL"}</td>${metrics}</tr>`;
  }).join("\n");
  return page(
    `${passed} of ${entries.length} runs passed`,
    `<header><h1>${passed} of ${entries.length} runs passed</h1></header>
<table class="index"><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table>`,
  );
}

/**
 * The timeline as one SVG: event labels, replica lanes, the latency scatter, the
 * traffic plot, the time axis and the legend, top to bottom.
 *
 * @param timeline The run's timeline.
 * @returns The `<svg>` element.
 */
export function renderTimelineSvg(timeline: Timeline): string {
  const spanMs = Math.max(timeline.plannedMs, timeline.endedAtMs, 1);
  const x = (ms: number): number =>
    PLOT_LEFT + (Math.min(Math.max(ms, 0), spanMs) / spanMs) * PLOT_WIDTH;
  const headings: string[] = [];

  headings.push(heading(16, "Replica roles, inferred from routed messages (see legend)"));
  const labels = eventLabels(timeline, x);
  const eventTop = 22;
  const count = timeline.replicaIds.length;
  const laneHeight = count <= 7 ? 20 : count <= 13 ? 13 : 9;
  const laneGap = laneHeight >= 13 ? 4 : 2;
  const lanesTop = eventTop + labels.rows * EVENT_ROW_HEIGHT + 4;
  const laneSvg = timeline.lanes.map((lane, index) =>
    renderLane(lane, lanesTop + index * (laneHeight + laneGap), laneHeight, timeline, x)
  );
  const lanesBottom = lanesTop + count * (laneHeight + laneGap) - laneGap;

  const noReplyTop = lanesBottom + PANEL_GAP;
  const latencyTop = noReplyTop + NO_REPLY_HEIGHT + 4;
  const latencyBottom = latencyTop + LATENCY_HEIGHT;
  headings.push(
    heading(noReplyTop - 8, "Client requests: latency of the first reply, by send time"),
  );
  const latency = renderLatency(timeline, x, noReplyTop, latencyTop, latencyBottom);

  const trafficTop = latencyBottom + PANEL_GAP;
  const trafficBottom = trafficTop + TRAFFIC_HEIGHT;
  headings.push(
    heading(trafficTop - 8, `Messages between replicas per ${TRAFFIC_BUCKET_MS} ms, by send time`),
  );
  const traffic = renderTraffic(timeline, x, trafficTop, trafficBottom);

  // Bands and grid lines are drawn panel by panel, so none crosses a panel's heading.
  const panels: Panel[] = [
    { top: lanesTop, bottom: lanesBottom },
    { top: noReplyTop, bottom: latencyBottom },
    { top: trafficTop, bottom: trafficBottom },
  ];
  const axis = renderTimeAxis(spanMs, x, panels);
  const legendTop = trafficBottom + 60;
  const legend = renderLegend(legendTop);
  const height = round(legendTop + legend.height + 4);
  const bands = renderBands(timeline, x, eventTop, labels, panels);
  return `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 ${CHART_WIDTH} ${height}" width="${CHART_WIDTH}" height="${height}" font-family="system-ui, sans-serif" font-size="11" role="img" aria-label="Timeline of the run">
${axis.grid}
${bands.under}
<g class="lanes">${laneSvg.join("\n")}</g>
${latency}
${traffic}
${axis.labels}
${bands.over}
${headings.join("\n")}
${legend.svg}
</svg>`;
}

/** The vertical extent of one panel of the chart. */
interface Panel {
  top: number;
  bottom: number;
}

/** Where each event's label goes: a row, so labels close in time do not overlap. */
interface EventLabels {
  rows: number;
  placed: { atMs: number; text: string; row: number; kind: "partition" | "heal" | "kill" }[];
}

function eventLabels(timeline: Timeline, x: (ms: number) => number): EventLabels {
  const rowEnds: number[] = [];
  const placed: EventLabels["placed"] = [];
  for (const [index, event] of timeline.events.entries()) {
    // An event's victims: replicas it killed before the next event of its type
    // (`kill_leader_on_put_ack` kills later, when a put is acknowledged).
    const next = timeline.events.slice(index + 1).find((later) => later.type === event.type);
    const victims = timeline.deaths
      .filter((death) => death.killed && death.cause === event.type)
      .filter((death) => death.atMs >= event.atMs && death.atMs < (next?.atMs ?? Infinity))
      .map((death) => death.replica);
    const kind = event.type.startsWith("kill")
      ? "kill"
      : event.type === "part_end"
      ? "heal"
      : "partition";
    const text = `${event.type}${victims.length > 0 ? ` → ${victims.join(" ")}` : ""} (${
      seconds(event.atMs)
    } s)`;
    const left = x(event.atMs);
    const width = text.length * CHAR_WIDTH + 8;
    // Labels run right of their line, or left of it when they would leave the chart.
    const start = left + width > CHART_WIDTH ? left - width : left;
    let row = rowEnds.findIndex((end) => end < start);
    if (row === -1) {
      row = rowEnds.length;
      rowEnds.push(0);
    }
    rowEnds[row] = start + width;
    placed.push({ atMs: event.atMs, text, row, kind });
  }
  return { rows: Math.max(1, rowEnds.length), placed };
}

function renderBands(
  timeline: Timeline,
  x: (ms: number) => number,
  eventTop: number,
  labels: EventLabels,
  panels: readonly Panel[],
): { under: string; over: string } {
  const under = timeline.partitions.map((partition) => {
    const minority = timeline.replicaIds.filter((id) => !partition.majority.includes(id));
    const left = round(x(partition.fromMs));
    const width = round(Math.max(1, x(partition.toMs) - x(partition.fromMs)));
    const title = `${partition.type} from ${seconds(partition.fromMs)} s to ${
      seconds(partition.toMs)
    } s: majority ${partition.majority.join(" ")}, minority ${minority.join(" ")}`;
    return `<g class="band partition"><title>${escape(title)}</title>${
      panels.map((panel) =>
        `<rect x="${left}" y="${round(panel.top)}" width="${width}" height="${
          round(panel.bottom - panel.top)
        }" fill="${PARTITION_FILL}" fill-opacity="0.3"/>`
      ).join("")
    }</g>`;
  });
  const strokes = { partition: PARTITION_LINE, heal: HEAL_LINE, kill: KILL_LINE };
  const firstTop = panels[0]?.top ?? eventTop;
  const over = labels.placed.map((label) => {
    const lineX = round(x(label.atMs));
    const labelY = eventTop + label.row * EVENT_ROW_HEIGHT + 10;
    const width = label.text.length * CHAR_WIDTH + 8;
    const rightward = x(label.atMs) + width <= CHART_WIDTH;
    const stroke = strokes[label.kind];
    const dash = label.kind === "kill" ? "5 3" : "2 2";
    const segments = [{ top: labelY + 2, bottom: firstTop }, ...panels].map((segment) =>
      `<line x1="${lineX}" y1="${round(segment.top)}" x2="${lineX}" y2="${
        round(segment.bottom)
      }" stroke="${stroke}" stroke-width="1.3" stroke-dasharray="${dash}"/>`
    );
    return `<g class="band event ${label.kind}">${segments.join("")}<text x="${
      round(rightward ? x(label.atMs) + 3 : x(label.atMs) - 3)
    }" y="${round(labelY)}" text-anchor="${
      rightward ? "start" : "end"
    }" fill="${stroke}" font-weight="600">${escape(label.text)}</text></g>`;
  });
  return { under: under.join("\n"), over: over.join("\n") };
}

function renderLane(
  lane: Lane,
  top: number,
  height: number,
  timeline: Timeline,
  x: (ms: number) => number,
): string {
  const spans = lane.spans.map((span) =>
    `<rect class="role ${span.role}" x="${round(x(span.fromMs))}" y="${round(top)}" width="${
      round(Math.max(0.5, x(span.toMs) - x(span.fromMs)))
    }" height="${height}" fill="${ROLE_COLORS[span.role]}"><title>${
      escape(
        `${lane.replica} ${span.role} from ${seconds(span.fromMs)} s to ${seconds(span.toMs)} s`,
      )
    }</title></rect>`
  );
  // The side strip along the lane's foot: which side of each partition it was on.
  const stripHeight = Math.max(3, Math.round(height / 4));
  const sides = timeline.partitions.map((partition) => {
    const majority = partition.majority.includes(lane.replica);
    return `<rect class="side ${majority ? "majority" : "minority"}" x="${
      round(x(partition.fromMs))
    }" y="${round(top + height - stripHeight)}" width="${
      round(Math.max(1, x(partition.toMs) - x(partition.fromMs)))
    }" height="${stripHeight}" fill="${majority ? MAJORITY_COLOR : MINORITY_COLOR}"><title>${
      escape(`${lane.replica} on the ${majority ? "majority" : "minority"} side`)
    }</title></rect>`;
  });
  const deaths = timeline.deaths.filter((death) => death.replica === lane.replica).map((death) =>
    `<text class="death" x="${round(x(death.atMs) + 4)}" y="${
      round(top + height / 2 + 4)
    }" fill="#ffffff" font-weight="600">${escape(death.killed ? "killed" : "died")}<title>${
      escape(`${lane.replica} ${death.cause} at ${seconds(death.atMs)} s`)
    }</title></text>`
  );
  return `<g class="lane" data-replica="${escape(lane.replica)}"><text x="${PLOT_LEFT - 8}" y="${
    round(top + height / 2 + 4)
  }" text-anchor="end" font-weight="600">${escape(lane.replica)}</text>${spans.join("")}${
    sides.join("")
  }${deaths.join("")}</g>`;
}

function renderLatency(
  timeline: Timeline,
  x: (ms: number) => number,
  noReplyTop: number,
  top: number,
  bottom: number,
): string {
  const latencies = timeline.requests.flatMap((request) => [
    ...(request.latencyMs === undefined ? [] : [request.latencyMs]),
    ...request.duplicateLatenciesMs,
  ]).filter((ms) => ms > 0);
  const [lowMs, highMs] = latencyRange(latencies);
  const decades = Math.log10(highMs / lowMs);
  const y = (ms: number): number => {
    const clamped = Math.min(Math.max(ms, lowMs), highMs);
    return bottom - (Math.log10(clamped / lowMs) / decades) * (bottom - top);
  };
  const ticks: string[] = [];
  for (let tickMs = lowMs; tickMs <= highMs * 1.0001; tickMs *= 10) {
    const tickY = round(y(tickMs));
    ticks.push(
      `<line x1="${PLOT_LEFT}" y1="${tickY}" x2="${PLOT_RIGHT}" y2="${tickY}" stroke="#e3e3e3"/>` +
        `<text x="${PLOT_LEFT - 6}" y="${round(y(tickMs) + 4)}" text-anchor="end">${
          durationLabel(tickMs)
        }</text>`,
    );
  }
  const noReplyY = noReplyTop + NO_REPLY_HEIGHT / 2;
  const points = timeline.requests.map((request) => renderPoint(request, x, y, noReplyY));
  const stray = timeline.strayIncorrect.map((reply) =>
    `<circle class="mark incorrect" cx="${round(x(reply.atMs))}" cy="${
      round(noReplyY)
    }" r="5" fill="none" stroke="${INCORRECT_COLOR}" stroke-width="1.6"><title>${
      escape(`incorrect reply to ${reply.client} at ${seconds(reply.atMs)} s (no such request)`)
    }</title></circle>`
  );
  const axisMiddle = (top + bottom) / 2;
  return `<g class="latency">
<rect class="no-reply" x="${PLOT_LEFT}" y="${noReplyTop}" width="${PLOT_WIDTH}" height="${NO_REPLY_HEIGHT}" fill="#f3f3f3"/>
<text x="${PLOT_LEFT - 6}" y="${round(noReplyY + 4)}" text-anchor="end">no reply</text>
<g class="axis y latency-axis">${ticks.join("")}
<line x1="${PLOT_LEFT}" y1="${top}" x2="${PLOT_LEFT}" y2="${bottom}" stroke="#555"/>
<text class="axis-title" transform="translate(14 ${
    round(axisMiddle)
  }) rotate(-90)" text-anchor="middle" font-weight="600">latency (log scale)</text></g>
<g class="points">${points.join("")}${stray.join("")}</g>
</g>`;
}

function renderPoint(
  request: RequestPoint,
  x: (ms: number) => number,
  y: (ms: number) => number,
  noReplyY: number,
): string {
  const cx = round(x(request.sentAtMs));
  const color = OUTCOME_COLORS[request.outcome];
  const outcome = OUTCOME_LABELS[request.outcome];
  const answer = request.latencyMs === undefined
    ? "no reply"
    : `${outcome} after ${durationLabel(request.latencyMs, 2)}`;
  const extras = [
    request.duplicateLatenciesMs.length > 0
      ? `, ${request.duplicateLatenciesMs.length} duplicate(s)`
      : "",
    request.incorrect ? ", INCORRECT" : "",
  ].join("");
  const tooltip = `<title>${
    escape(
      `${request.kind} ${request.mid} to ${request.sentTo ?? "nobody"} at ${
        seconds(request.sentAtMs)
      } s: ${answer}${extras}`,
    )
  }</title>`;
  const marks: string[] = [];
  let shape: string;
  let cy: number;
  if (request.latencyMs === undefined) {
    cy = round(noReplyY);
    shape = `<path class="point unanswered" d="M${cx} ${round(cy - 4)}L${round(cx + 4)} ${
      round(cy + 3)
    }L${round(cx - 4)} ${
      round(cy + 3)
    }Z" fill="none" stroke="${color}" stroke-width="1.2">${tooltip}</path>`;
  } else {
    cy = round(y(request.latencyMs));
    shape = `<circle class="point ${request.outcome.replace("_", "-")}" cx="${cx}" cy="${cy}" r="${
      request.outcome === "get_ok" || request.outcome === "put_ok" ? 2.4 : 3
    }" fill="${color}" fill-opacity="0.8">${tooltip}</circle>`;
  }
  for (const duplicateMs of request.duplicateLatenciesMs) {
    const dy = round(y(duplicateMs));
    marks.push(
      `<path class="mark duplicate" d="M${round(cx - 4)} ${round(dy - 4)}L${round(cx + 4)} ${
        round(dy + 4)
      }M${round(cx - 4)} ${round(dy + 4)}L${round(cx + 4)} ${
        round(dy - 4)
      }" stroke="${DUPLICATE_COLOR}" stroke-width="2">${tooltip}</path>`,
    );
  }
  if (request.incorrect) {
    marks.push(
      `<circle class="mark incorrect" cx="${cx}" cy="${cy}" r="6" fill="none" stroke="${INCORRECT_COLOR}" stroke-width="1.8">${tooltip}</circle>`,
    );
  }
  return shape + marks.join("");
}

function renderTraffic(
  timeline: Timeline,
  x: (ms: number) => number,
  top: number,
  bottom: number,
): string {
  const peak = timeline.sentPerBucket.reduce((max, value) => Math.max(max, value), 1);
  // A catch-up burst can be ten times the usual traffic; the axis follows the usual
  // traffic and the burst is clipped, with its peak written beside it.
  const busy = timeline.sentPerBucket.filter((value) => value > 0).sort((a, b) => a - b);
  const usual = busy.length > 0 ? percentile(busy, TRAFFIC_AXIS_PERCENTILE) : 1;
  const maxValue = niceCeiling(Math.min(peak, Math.max(10, usual * TRAFFIC_AXIS_HEADROOM)));
  const y = (value: number): number =>
    bottom - (Math.min(value, maxValue) / maxValue) * (bottom - top);
  const peakIndex = timeline.sentPerBucket.indexOf(peak);
  const peakX = x((peakIndex + 0.5) * TRAFFIC_BUCKET_MS);
  const peakNote = peak > maxValue
    ? `<text class="peak" x="${round(peakX + (peakX > PLOT_RIGHT - 160 ? -4 : 4))}" y="${
      round(top + 9)
    }" text-anchor="${peakX > PLOT_RIGHT - 160 ? "end" : "start"}">peak ${peak} at ${
      seconds(peakIndex * TRAFFIC_BUCKET_MS)
    } s (clipped)</text>`
    : "";
  const area = (values: readonly number[]): string => {
    if (values.length === 0) return "";
    let d = `M${round(x(0))} ${round(bottom)}`;
    values.forEach((value, index) => {
      const barY = round(y(value));
      d += `L${round(x(index * TRAFFIC_BUCKET_MS))} ${barY}L${
        round(x((index + 1) * TRAFFIC_BUCKET_MS))
      } ${barY}`;
    });
    return `${d}L${round(x(values.length * TRAFFIC_BUCKET_MS))} ${round(bottom)}Z`;
  };
  const ticks = [0, maxValue / 2, maxValue].map((value) =>
    `<line x1="${PLOT_LEFT}" y1="${round(y(value))}" x2="${PLOT_RIGHT}" y2="${
      round(y(value))
    }" stroke="#e3e3e3"/><text x="${PLOT_LEFT - 6}" y="${
      round(y(value) + 4)
    }" text-anchor="end">${value}</text>`
  );
  return `<g class="traffic">
<g class="axis y traffic-axis">${ticks.join("")}
<line x1="${PLOT_LEFT}" y1="${top}" x2="${PLOT_LEFT}" y2="${bottom}" stroke="#555"/>
<text class="axis-title" transform="translate(14 ${
    round((top + bottom) / 2)
  }) rotate(-90)" text-anchor="middle" font-weight="600">messages</text></g>
<path class="sent" d="${area(timeline.sentPerBucket)}" fill="${SENT_COLOR}"/>
<path class="dropped" d="${area(timeline.droppedPerBucket)}" fill="${DROPPED_COLOR}"/>
${peakNote}
</g>`;
}

function renderTimeAxis(
  spanMs: number,
  x: (ms: number) => number,
  panels: readonly Panel[],
): { grid: string; labels: string } {
  const spanS = spanMs / 1000;
  const stepS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600]
    .find((step) => spanS / step <= MAX_TIME_TICKS) ?? Math.ceil(spanS / MAX_TIME_TICKS);
  const bottom = panels.at(-1)?.bottom ?? 0;
  const grid: string[] = [];
  const labels: string[] = [];
  for (let tickS = 0; tickS <= spanS + 1e-9; tickS += stepS) {
    const tickX = round(x(tickS * 1000));
    for (const panel of panels) {
      grid.push(
        `<line x1="${tickX}" y1="${round(panel.top)}" x2="${tickX}" y2="${
          round(panel.bottom)
        }" stroke="#000" stroke-opacity="0.08"/>`,
      );
    }
    labels.push(
      `<line x1="${tickX}" y1="${round(bottom)}" x2="${tickX}" y2="${
        round(bottom + 4)
      }" stroke="#555"/><text x="${tickX}" y="${round(bottom + 16)}" text-anchor="middle">${
        Number(tickS.toFixed(1))
      }</text>`,
    );
  }
  return {
    grid: `<g class="grid">${grid.join("")}</g>`,
    labels: `<g class="axis x time-axis">${labels.join("")}
<line x1="${PLOT_LEFT}" y1="${round(bottom)}" x2="${PLOT_RIGHT}" y2="${
      round(bottom)
    }" stroke="#555"/>
<text class="axis-title" x="${round(PLOT_LEFT + PLOT_WIDTH / 2)}" y="${
      round(bottom + 34)
    }" text-anchor="middle" font-weight="600">time since the run started (s)</text></g>`,
  };
}

function renderLegend(top: number): { svg: string; height: number } {
  type Swatch = { label: string; svg: (x: number, y: number) => string };
  const box = (color: string) => (x: number, y: number) =>
    `<rect x="${x}" y="${y - 9}" width="14" height="10" fill="${color}"/>`;
  const dot = (color: string) => (x: number, y: number) =>
    `<circle cx="${x + 6}" cy="${y - 4}" r="3.5" fill="${color}"/>`;
  const eventLine = (color: string, dash: string) => (x: number, y: number) =>
    `<line x1="${x + 6}" y1="${y - 11}" x2="${x + 6}" y2="${
      y + 3
    }" stroke="${color}" stroke-width="1.3" stroke-dasharray="${dash}"/>`;
  const rows: [string, Swatch[]][] = [
    ["Roles", [
      ...(["follower", "candidate", "leader", "dead"] as const).map((role) => ({
        label: role,
        svg: box(ROLE_COLORS[role]),
      })),
      { label: "majority side", svg: box(MAJORITY_COLOR) },
      { label: "minority side", svg: box(MINORITY_COLOR) },
    ]],
    ["Replies", [
      ...(["get_ok", "put_ok", "redirect", "fail"] as const).map((outcome) => ({
        label: OUTCOME_LABELS[outcome],
        svg: dot(OUTCOME_COLORS[outcome]),
      })),
      {
        label: "unanswered",
        svg: (x, y) =>
          `<path d="M${x + 6} ${y - 8}L${x + 10} ${y - 1}L${x + 2} ${
            y - 1
          }Z" fill="none" stroke="${OUTCOME_COLORS.unanswered}" stroke-width="1.2"/>`,
      },
      {
        label: "duplicate reply",
        svg: (x, y) =>
          `<path d="M${x + 2} ${y - 8}L${x + 10} ${y}M${x + 2} ${y}L${x + 10} ${
            y - 8
          }" stroke="${DUPLICATE_COLOR}" stroke-width="2"/>`,
      },
      {
        label: "incorrect reply",
        svg: (x, y) =>
          `<circle cx="${x + 6}" cy="${
            y - 4
          }" r="5" fill="none" stroke="${INCORRECT_COLOR}" stroke-width="1.8"/>`,
      },
    ]],
    ["Events", [
      { label: "partition up", svg: box(PARTITION_FILL) },
      { label: "partition starts", svg: eventLine(PARTITION_LINE, "2 2") },
      { label: "heals", svg: eventLine(HEAL_LINE, "2 2") },
      { label: "kill", svg: eventLine(KILL_LINE, "5 3") },
      { label: "messages sent", svg: box(SENT_COLOR) },
      { label: "of which dropped", svg: box(DROPPED_COLOR) },
    ]],
  ];
  const parts: string[] = [];
  rows.forEach(([title, swatches], index) => {
    const rowY = top + index * LEGEND_ROW_HEIGHT;
    parts.push(
      `<text x="${PLOT_LEFT - 8}" y="${rowY}" text-anchor="end" font-weight="600">${
        escape(title)
      }</text>`,
    );
    let cursor = PLOT_LEFT;
    for (const swatch of swatches) {
      parts.push(
        `<g class="legend-item">${swatch.svg(cursor, rowY)}<text x="${cursor + 18}" y="${rowY}">${
          escape(swatch.label)
        }</text></g>`,
      );
      cursor += 18 + swatch.label.length * CHAR_WIDTH + 16;
    }
  });
  const explanation = [
    "How roles are inferred (the simulator cannot see inside a replica): a replica sending a message that names itself",
    "as leader is leader; sending request_vote or pre_vote, candidate; naming another replica as leader, follower. A",
    "message naming no leader keeps the role (a leader's makes it follower). Dead from its kill or exit on.",
  ];
  const textTop = top + rows.length * LEGEND_ROW_HEIGHT + 4;
  explanation.forEach((line, index) => {
    parts.push(
      `<text class="legend-note" x="${PLOT_LEFT}" y="${textTop + index * 15}" fill="#333">${
        escape(line)
      }</text>`,
    );
  });
  const height = rows.length * LEGEND_ROW_HEIGHT + explanation.length * 15 + 4;
  return { svg: `<g class="legend">${parts.join("\n")}</g>`, height };
}

function heading(y: number, text: string): string {
  return `<text class="panel-title" x="${PLOT_LEFT}" y="${
    round(y)
  }" font-size="12.5" font-weight="700">${escape(text)}</text>`;
}

function scorePanel(result: RunResult): string {
  const rows = result.metrics.map((metric) => {
    const thresholds = result.config.benchmarks[metric.metric];
    const tiers = metric.metric === "median_latency"
      ? `${thresholds.map((s) => Number((s * 1000).toFixed(3))).join(" / ")} ms`
      : thresholds.join(" / ");
    const tier = result.coursePassed ? TIER_SHORT_NAMES[metric.tier] : "–";
    return `<tr><td title="${escape(METRIC_TITLES[metric.metric])}">${
      escape(metric.metric)
    }</td><td class="num">${
      escape(metricText(metric.metric, metric.value))
    }</td><td class="num small">${escape(tiers)}</td><td class="tier${
      result.coursePassed ? metric.tier : "x"
    }" title="${escape(TIER_NAMES[metric.tier])}">${escape(tier)}</td></tr>`;
  }).join("");
  const checks = result.checks.map((check) =>
    `<li class="${check.passed ? "ok" : "bad"}">${check.passed ? "✓" : "✗"} ${
      escape(check.passed ? check.check.replace("_", " ") : check.message)
    }</li>`
  ).join("");
  return `<section><h2>Course score</h2>
<table><thead><tr><th>metric</th><th>value</th><th title="bonus / full / partial: a value below one earns that credit">thresholds</th><th>credit</th></tr></thead>
<tbody>${rows}</tbody></table>
${
    result.coursePassed
      ? ""
      : '<p class="small">Correctness failed: the course gives no performance tiers.</p>'
  }
<h3>Correctness checks (course)</h3><ul class="checks">${checks}</ul></section>`;
}

function extrasPanel(result: RunResult): string {
  const l = result.latency;
  const split = result.latencyByReply;
  const report = result.linearizability;
  const verdict = report.linearizable
    ? `<p class="ok">✓ Linearizable (${result.operationCount} operations checked)</p>`
    : `<p class="bad">✗ NOT linearizable: ${report.violations.length} keys violated, ${report.undeterminedKeys.length} undetermined</p><ul class="small">${
      report.violations.slice(0, 5).map((violation) =>
        `<li>key ${escape(violation.key)}: ${escape(violation.message)}</li>`
      ).join("")
    }</ul>`;
  const row = (label: string, summary: { p50S: number; count: number }) =>
    `<tr><td>${label}</td><td class="num">${
      escape(durationLabel(summary.p50S * 1000, 2))
    }</td><td class="num">${summary.count}</td></tr>`;
  return `<section><h2>Our checks</h2>${verdict}
<table><thead><tr><th>latency</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr></thead>
<tbody><tr><td>all replies</td>${
    [l.p50S, l.p90S, l.p99S, l.maxS].map((s) =>
      `<td class="num">${escape(durationLabel(s * 1000, 2))}</td>`
    ).join("")
  }</tr></tbody></table>
<table><thead><tr><th>by reply</th><th>p50</th><th>count</th></tr></thead><tbody>
${row("get ok", split.getOk)}${row("put ok", split.putOk)}${
    row("redirect / fail", split.refused)
  }</tbody></table></section>`;
}

function countersPanel(result: RunResult): string {
  const c = result.counters;
  const items: [string, string][] = [
    ["messages sent / dropped", `${c.totalMsgs} / ${c.totalDrops}`],
    ["get / put requests", `${c.totalGet} / ${c.totalPut}`],
    ["redirects (incl. fails)", String(c.redirects)],
    ["fails get / put", `${c.failedGet} / ${c.failedPut}`],
    ["unanswered get / put", `${c.unansweredGet} / ${c.unansweredPut}`],
    ["failures (graded)", String(failures(c))],
    ["duplicates", String(c.duplicates)],
    ["incorrect", String(c.incorrect)],
    ["died / killed", `${c.died} / ${c.killed}`],
    ["leaders seen", c.leaders.join(" ") || "none"],
    ["ended by", result.stopReason.replace("_", " ")],
  ];
  return `<section><h2>Counters</h2><table class="counters"><tbody>${
    items.map(([label, value]) => `<tr><td>${escape(label)}</td><td>${escape(value)}</td></tr>`)
      .join("")
  }</tbody></table></section>`;
}

function runSummary(result: RunResult): string {
  const config = result.config;
  const totalS = config.startWaitS + config.lifetimeS + config.endWaitS;
  const events = config.events.map((event) => `${event.type}@${event.timeS}s`).join(", ");
  return [
    `seed ${result.seed}`,
    `${config.replicas} replicas`,
    `${config.requests} requests (mix ${config.mix}, drops ${config.drops})`,
    `${totalS} s`,
    events ? `events after start_wait: ${events}` : "no events",
    ...(result.clock === "virtual" ? ["virtual clock: latencies from a model, not measured"] : []),
  ].join(" · ");
}

function verdictBadge(result: RunResult): string {
  const course = result.coursePassed ? "course PASS" : "course FAIL";
  const linear = result.linearizability.linearizable ? "linearizable" : "NOT linearizable";
  return `<span class="badge ${result.passed ? "pass" : "fail"}" title="${course}, ${linear}">${
    result.passed ? "PASS" : "FAIL"
  }</span>`;
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; color: #222; margin: 0; padding: 12px 16px; }
header h1 { font-size: 20px; margin: 0 0 2px; }
header p { margin: 0 0 10px; color: #555; }
main { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.chart { flex: 1 1 820px; min-width: 0; }
.chart svg { width: 100%; height: auto; display: block; }
aside { flex: 0 0 350px; min-width: 0; font-size: 13px; }
aside table { font-size: 12.5px; }
aside th, aside td { padding: 2px 3px; }
aside section { border: 1px solid #ddd; border-radius: 6px; padding: 6px 10px; margin-bottom: 10px; }
h2 { font-size: 15px; margin: 2px 0 6px; }
h3 { font-size: 13px; margin: 8px 0 2px; }
table { border-collapse: collapse; width: 100%; margin-bottom: 6px; }
th, td { text-align: left; padding: 2px 4px; border-bottom: 1px solid #eee; vertical-align: top; }
th { font-weight: 600; font-size: 12px; color: #555; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.small, small { font-size: 11px; color: #666; }
.note { font-size: 12px; color: #555; margin: 4px 0 0 8px; }
ul.checks { list-style: none; padding: 0; margin: 0; }
.ok { color: #1a7f37; } .bad { color: #c62828; font-weight: 600; }
.tier0 { color: #1565c0; font-weight: 600; } .tier1 { color: #1a7f37; }
.tier2 { color: #b26a00; } .tier3 { color: #c62828; font-weight: 600; } .tierx { color: #888; }
.badge { font-size: 13px; padding: 2px 8px; border-radius: 10px; color: #fff; vertical-align: middle; }
.badge.pass { background: #1a7f37; } .badge.fail { background: #c62828; }
td.tier0, td.tier1, td.tier2, td.tier3, table.counters td:first-child { white-space: nowrap; }
table.index { width: auto; } table.index td { padding: 4px 10px; }
</style></head>
<body>
${body}
</body></html>
`;
}

/** The low and high ends of the latency axis, whole decades, in ms. */
function latencyRange(latenciesMs: readonly number[]): [number, number] {
  if (latenciesMs.length === 0) return [0.1, 10 ** (MIN_LATENCY_DECADES - 1)];
  // A loop, not Math.min(...values): a long run has more latencies than a call has arguments.
  let minMs = Infinity;
  let maxMs = 0;
  for (const ms of latenciesMs) {
    minMs = Math.min(minMs, ms);
    maxMs = Math.max(maxMs, ms);
  }
  const lowExponent = Math.max(-2, Math.floor(Math.log10(minMs)));
  const highExponent = Math.max(
    Math.ceil(Math.log10(maxMs)),
    lowExponent + MIN_LATENCY_DECADES,
  );
  return [10 ** lowExponent, 10 ** highExponent];
}

/** Rounds up to 1, 2 or 5 times a power of ten, for the traffic axis. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * power >= value) ?? 10) * power;
}

function durationLabel(ms: number, digits = 0): string {
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(digits))} s`;
  if (ms >= 1 || digits > 0) return `${Number(ms.toFixed(ms >= 1 ? digits : 3))} ms`;
  return `${Number(ms.toPrecision(1))} ms`;
}

function metricText(metric: string, value: number): string {
  return metric === "median_latency" ? durationLabel(value * 1000, 2) : String(value);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * Escapes text for HTML and SVG content and attribute values.
 *
 * @param text The text.
 * @returns It with `& < > " '` escaped.
 * @example
 * ```ts
 * import { escape } from "./report_html.ts";
 * if (escape("<a & 'b'>") !== "&lt;a &amp; &#39;b&#39;&gt;") throw new Error();
 * ```
 */
export function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}
