/*
 * The dashboard page of metricsd serve: polls /api/report every second
 * and draws, per store, the report's headline numbers and charts (with
 * Chart.js, served by metricsd too). History is kept here, one point
 * per poll; the latency distribution is the server's percentiles.
 *
 * For tests and scripts, the DOM says what the page knows: #status has
 * data-polls (answers received), data-errors (failed polls),
 * data-next-poll-ms (the delay set before the next poll) and
 * data-csp-violations; each store's section has data-run and
 * data-state, and each headline number a data-field and data-value
 * holding the JSON value as received.
 */
"use strict";

/* Every second; ?poll=MS (100 at least) to poll faster, as tests do. */
const POLL_MS = Math.max(100, Number(new URLSearchParams(location.search)
	.get("poll")) || 1000);
const HISTORY = 600;		/* points per chart: ten minutes */
const COLORS = ["#2458a6", "#d0601b", "#1f7a3d", "#8a3ab9", "#a51d36"];
const HEADLINE = [
	["state", "state", (v) => v],
	["qps", "QPS", (v) => fixed(v, 2)],
	["tps", "output TPS", (v) => fixed(v, 1)],
	["n_samples_issued", "issued", int],
	["n_samples_completed", "completed", int],
	["n_samples_failed", "failed", int],
	["samples_in_flight", "in flight", int],
	["duration_ns", "duration (s)", (v) => fixed(v / 1e9, 3)],
];

const stores = new Map();	/* run name -> panel state */
const status = document.getElementById("status");
const started = performance.now();

function fixed(v, n) {
	return typeof v === "number" ? v.toFixed(n) : "–";
}

function int(v) {
	return typeof v === "number" ? String(v) : "–";
}

function ms(v) {
	return typeof v === "number" ? v / 1e6 : null;
}

function bump(name) {
	status.dataset[name] = String(Number(status.dataset[name]) + 1);
}

document.addEventListener("securitypolicyviolation", () =>
	bump("cspViolations"));

function el(tag, cls, text) {
	const e = document.createElement(tag);

	if (cls)
		e.className = cls;
	if (text !== undefined)
		e.textContent = text;
	return e;
}

function chart(parent, title, yTitle, series, opts = {}) {
	const box = el("div", "chart");
	const canvas = el("canvas");

	box.appendChild(canvas);
	parent.appendChild(box);
	return new Chart(canvas, {
		type: "line",
		data: {
			labels: [],
			datasets: series.map((s, i) => ({
				label: s.label,
				data: [],
				yAxisID: s.axis || "y",
				borderColor: COLORS[i % COLORS.length],
				backgroundColor: COLORS[i % COLORS.length],
				borderWidth: 1.5,
				/* Dots while a line is too short to see. */
				pointRadius: (ctx) =>
					ctx.dataset.data.length < 3 ? 3 : 0,
				tension: 0,
			})),
		},
		options: {
			animation: false,
			responsive: true,
			maintainAspectRatio: false,
			parsing: false,
			normalized: true,
			plugins: {
				title: { display: true, text: title },
				legend: { labels: { boxWidth: 12 } },
			},
			scales: Object.assign({
				x: {
					type: "linear",
					min: opts.xMin,
					title: { display: true,
					    text: opts.xTitle || "time (s)" },
				},
				y: {
					beginAtZero: true,
					title: { display: true, text: yTitle },
				},
			}, opts.scales || {}),
		},
	});
}

function panel(run) {
	const sec = el("section", "store");
	const h = el("h2");
	const badge = el("span", "badge");
	const note = el("span", "note");
	const dl = el("dl", "headline");
	const charts = el("div", "charts");
	const fields = {};

	sec.dataset.run = run;
	h.append(el("span", "run", run), badge, note);
	for (const [key, label] of HEADLINE) {
		const d = el("div");
		const dd = el("dd", null, "–");

		dd.dataset.field = key;
		d.append(el("dt", null, label), dd);
		dl.appendChild(d);
		fields[key] = dd;
	}
	sec.append(h, dl, charts);
	document.getElementById("stores").appendChild(sec);
	const pcts = (axis) => ["p50", "p90", "p99"].map((p) =>
		({ label: p, axis }));
	return {
		sec, badge, note, fields, last: null,
		rate: chart(charts, "Throughput", "completions/s", [
			{ label: "completions/s" },
			{ label: "output tokens/s", axis: "y1" },
		], { xMin: 0, scales: { y1: { position: "right", beginAtZero: true,
		    grid: { drawOnChartArea: false },
		    title: { display: true, text: "tokens/s" } } } }),
		ttft: chart(charts, "TTFT", "ms", pcts(), { xMin: 0 }),
		tpot: chart(charts, "TPOT", "ms", pcts(), { xMin: 0 }),
		latency: chart(charts, "Latency", "ms", pcts(), { xMin: 0 }),
		dist: chart(charts, "Distribution (now)", "percentile", [
			{ label: "latency" }, { label: "TTFT" },
			{ label: "TPOT" },
		], { xTitle: "ms", scales: { y: { min: 0, max: 100,
		    title: { display: true, text: "percentile" } } } }),
	};
}

function push(c, i, x, y) {
	const d = c.data.datasets[i].data;

	d.push({ x, y });
	if (d.length > HISTORY)
		d.shift();
}

/* Completions and output tokens per second since the last poll. */
function rates(p, r, t) {
	const done = r.n_samples_completed;
	const osl = r.output_sequence_lengths;
	const tokens = osl && osl.count ? osl.mean * osl.count : 0;
	let out = null;

	if (p.last && done < p.last.done) {
		/* Fewer than before: a new run under the same name. */
		for (const c of [p.rate, p.ttft, p.tpot, p.latency])
			for (const d of c.data.datasets)
				d.data = [];
		p.last = null;
	}
	if (p.last && t > p.last.t)
		out = [(done - p.last.done) / (t - p.last.t),
		    (tokens - p.last.tokens) / (t - p.last.t)];
	p.last = { t, done, tokens };
	return out;
}

function update(p, s, t) {
	const r = s.report;

	p.sec.dataset.state = s.state;
	p.sec.classList.toggle("vanished", s.state === "vanished");
	p.badge.className = "badge " + s.state;
	p.badge.textContent = s.state;
	if (!r) {
		p.note.textContent = "the store is gone; last figures kept";
		p.fields.state.textContent = s.state;
		p.fields.state.dataset.value = JSON.stringify(s.state);
		return;
	}
	p.note.textContent = r.data_lost ? "incomplete: values lost" :
	    r.tokens_pending ? "token counts pending" : "";
	for (const [key, , fmt] of HEADLINE) {
		p.fields[key].textContent = fmt(r[key]);
		p.fields[key].dataset.value = JSON.stringify(r[key]);
	}
	const rt = rates(p, r, t);
	if (rt) {
		push(p.rate, 0, t, rt[0]);
		push(p.rate, 1, t, rt[1]);
	}
	for (const name of ["ttft", "tpot", "latency"]) {
		const row = r[name];

		["p50", "p90", "p99"].forEach((q, i) =>
			push(p[name], i, t, row ? ms(row[q]) : null));
	}
	const d = s.distribution;
	["latency", "ttft", "tpot"].forEach((name, i) => {
		const v = d && d[name];

		p.dist.data.datasets[i].data = v ? v.map((x, j) =>
			({ x: ms(x), y: d.p[j] })) : [];
	});
	for (const c of [p.rate, p.ttft, p.tpot, p.latency, p.dist])
		c.update("none");
}

/*
 * A store the answer does not list (serve forgot it: it vanished long
 * ago, or before this serve started) loses its panel, so that the page
 * neither shows stale figures as current nor grows without bound.
 */
function show(data) {
	const t = (performance.now() - started) / 1000;
	const listed = new Set();

	document.getElementById("empty").hidden = data.stores.length > 0;
	for (const s of data.stores) {
		let p = stores.get(s.run);

		if (!p) {
			p = panel(s.run);
			stores.set(s.run, p);
		}
		listed.add(s.run);
		update(p, s, t);
	}
	for (const [run, p] of stores) {
		if (listed.has(run))
			continue;
		for (const c of [p.rate, p.ttft, p.tpot, p.latency, p.dist])
			c.destroy();
		p.sec.remove();
		stores.delete(run);
	}
}

/*
 * While polls fail (serve stopped, restarting, overloaded), the delay
 * before the next doubles at each failure, up to RETRY_MAX_MS, and is
 * back to POLL_MS after a good one: a page left open on a stopped
 * server does not keep hammering it. #status's data-next-poll-ms says
 * which delay is set.
 */
const RETRY_MAX_MS = 30000;
let wait = POLL_MS;

async function poll() {
	try {
		const res = await fetch("/api/report", { cache: "no-store" });

		if (!res.ok)
			throw new Error("HTTP " + res.status);
		show(await res.json());
		bump("polls");
		status.classList.remove("error");
		status.textContent = "updated " + new Date().toLocaleTimeString();
		wait = POLL_MS;
	} catch (e) {
		wait = Math.min(RETRY_MAX_MS, wait * 2);
		status.classList.add("error");
		status.textContent = "cannot reach metricsd (" + e.message +
		    "), retrying in " + Math.round(wait / 1000) + " s";
		bump("errors");
	}
	status.dataset.nextPollMs = String(wait);
	setTimeout(poll, wait);
}

document.addEventListener("DOMContentLoaded", poll);
