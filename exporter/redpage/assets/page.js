(function () {
	"use strict";
	// Every name from the feed goes into the page as text (textContent),
	// never as markup.
	var feedURL = location.pathname + "?format=json";
	var refreshMs = 1000;
	var svgNS = "http://www.w3.org/2000/svg";
	var main = document.getElementById("sections");
	var shown = {}; // section title -> its elements

	var metrics = [
		{key: "rate", label: "rate", fmt: fmtRate},
		{key: "error_ratio", label: "errors", fmt: fmtPct},
		{key: "p99_ms", label: "p99", fmt: fmtMs}
	];

	function fmtRate(v) { return v == null ? "\u2014" : v.toFixed(v < 10 ? 2 : 1) + "/s"; }
	function fmtPct(v) { return v == null ? "\u2014" : (100 * v).toFixed(1) + "%"; }
	function fmtMs(v) {
		if (v == null) { return "\u2014"; }
		return (v < 10 ? v.toFixed(2) : v < 1000 ? v.toFixed(1) : v.toFixed(0)) + " ms";
	}
	function fmtInt(v) { return v == null ? "\u2014" : String(v); }

	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls) { e.className = cls; }
		if (text != null) { e.textContent = text; }
		return e;
	}
	function svg(tag, attrs) {
		var e = document.createElementNS(svgNS, tag);
		for (var k in attrs) { e.setAttribute(k, attrs[k]); }
		return e;
	}

	// Chart geometry: one panel per metric, side by side.
	var W = 1000, H = 96, top0 = 22, plotH = 66, pad = 24;
	var panelW = (W - pad * (metrics.length - 1)) / metrics.length;

	function newSection(title) {
		var s = {root: el("section")};
		s.root.setAttribute("data-section", title);
		var h2 = el("h2", null, title + " ");
		s.span = el("small");
		h2.appendChild(s.span);
		s.root.appendChild(h2);
		s.chart = svg("svg", {"class": "chart", viewBox: "0 0 " + W + " " + H, role: "img"});
		s.chart.setAttribute("aria-label", title + ": rate, error ratio and p99 over time");
		s.strips = metrics.map(function (m, i) {
			var x0 = i * (panelW + pad);
			var g = svg("g", {});
			g.appendChild(svg("line", {x1: x0, x2: x0 + panelW, y1: top0 + plotH, y2: top0 + plotH}));
			g.appendChild(svg("line", {x1: x0, x2: x0 + panelW, y1: top0, y2: top0, "class": "top"}));
			var label = svg("text", {x: x0, y: 14});
			var path = svg("path", {"class": m.key, d: ""});
			g.appendChild(label);
			g.appendChild(path);
			s.chart.appendChild(g);
			return {m: m, x0: x0, label: label, path: path};
		});
		s.root.appendChild(s.chart);
		var table = el("table");
		var head = el("tr");
		s.keyHead = el("th");
		head.appendChild(s.keyHead);
		["req/s", "errors", "p50", "p99", "in flight"].forEach(function (h) { head.appendChild(el("th", null, h)); });
		var thead = el("thead");
		thead.appendChild(head);
		table.appendChild(thead);
		s.tbody = el("tbody");
		table.appendChild(s.tbody);
		s.root.appendChild(table);
		main.appendChild(s.root);
		return s;
	}

	function drawStrip(st, points) {
		var vals = points.map(function (p) { return p[st.m.key]; });
		var top = 0;
		vals.forEach(function (v) { if (v != null && v > top) { top = v; } });
		if (st.m.key === "error_ratio") { top = Math.max(top, 0.01); }
		if (top <= 0) { top = 1; }
		var t0 = points.length ? points[0].t : 0;
		var span = points.length > 1 ? points[points.length - 1].t - t0 : 1;
		var d = "", pen = "M", drawn = 0;
		points.forEach(function (p, i) {
			var v = vals[i];
			if (v == null) { pen = "M"; return; }
			var x = st.x0 + panelW * (p.t - t0) / span;
			var y = top0 + plotH - plotH * v / top;
			d += pen + x.toFixed(1) + "," + y.toFixed(1) + " ";
			pen = "L";
			drawn++;
		});
		st.path.setAttribute("d", d.trim());
		st.path.setAttribute("data-points", String(drawn));
		var last = vals.length ? vals[vals.length - 1] : null;
		st.label.textContent = st.m.label + " " + st.m.fmt(last) + "   (max " + st.m.fmt(top) + ")";
		return drawn;
	}

	function rowCells(tr, r, isTotal) {
		// A row without a name holds the requests that matched no route.
		var cells = [r.name === "" ? "(no route)" : r.name, fmtRate(r.rate), fmtPct(r.error_ratio), fmtMs(r.p50_ms), fmtMs(r.p99_ms), fmtInt(r.in_flight)];
		cells.forEach(function (c, i) {
			var td = el("td", null, c);
			if (i === 0 && r.note) {
				td.title = r.note;
				td.appendChild(el("small", "note", " \u2014 " + r.note));
			}
			if (i === 2 && r.error_ratio > 0) { td.className = "bad"; }
			tr.appendChild(td);
		});
		if (isTotal) { tr.className = "total"; }
		tr.setAttribute("data-row", isTotal ? "" : r.name);
		return tr;
	}

	function render(f) {
		if (f.service) {
			document.getElementById("service").textContent = "\u00b7 " + f.service;
			document.title = "RED \u00b7 " + f.service;
		}
		var errBox = document.getElementById("error");
		errBox.hidden = !f.error;
		errBox.textContent = f.error || "";
		var status = "profile " + f.profile;
		if (f.time) { status = "updated " + new Date(f.time).toLocaleTimeString() + " \u00b7 " + status; }
		status += f.window == null ? " \u00b7 collecting a second sample\u2026" : " \u00b7 numbers over the last " + f.window.toFixed(1) + " s";
		document.getElementById("status").textContent = status;

		var seen = {};
		(f.sections || []).forEach(function (sec) {
			seen[sec.title] = true;
			var s = shown[sec.title] || (shown[sec.title] = newSection(sec.title));
			s.keyHead.textContent = sec.key;
			var drawn = 0;
			s.strips.forEach(function (st) { drawn += drawStrip(st, sec.history || []); });
			s.chart.setAttribute("data-drawn", String(drawn));
			var h = sec.history || [];
			s.span.textContent = h.length > 1 ? "chart over the last " + Math.round((h[h.length - 1].t - h[0].t) / 1000) + " s" : "";
			var rows = [rowCells(el("tr"), sec.total, true)];
			(sec.rows || []).forEach(function (r) { rows.push(rowCells(el("tr"), r, false)); });
			s.tbody.replaceChildren.apply(s.tbody, rows);
		});
		Object.keys(shown).forEach(function (t) {
			if (!seen[t]) { shown[t].root.remove(); delete shown[t]; }
		});
		document.body.setAttribute("data-updated", String(f.time || 0));
	}

	function tick() {
		fetch(feedURL, {cache: "no-store", headers: {Accept: "application/json"}})
			.then(function (r) {
				if (!r.ok) { throw new Error("feed: HTTP " + r.status); }
				return r.json();
			})
			.then(render)
			.catch(function (e) {
				var errBox = document.getElementById("error");
				errBox.hidden = false;
				errBox.textContent = "cannot read the feed: " + e.message;
			})
			.then(function () { setTimeout(tick, refreshMs); });
	}
	tick();
})();
