/*
 * The policy lab's charts, drawn with uPlot (the global `uPlot`, loaded before this script). Shared by the
 * lab's standalone report.html, which inlines this file, and by the dashboard's lab pages, which load it.
 * It draws every `[data-chart]` element inside a root from the report's data; the markup around each
 * chart already holds a table or caption with the same figures, so a chart adds a picture and never
 * information the tables lack. A classic script in plain ES2017 with no build step: its only global is
 * `drawLabCharts`.
 */
(function () {
  'use strict';

  var C = {
    weight: '#2563eb',
    failed: '#dc2626',
    bar: '#0f766e',
    whisker: '#111827',
    pareto: '#7c3aed',
    beaten: '#6b7280',
  };

  function fmtDur(ms) {
    if (ms == null || !isFinite(ms)) return '–';
    var a = Math.abs(ms),
      s = ms < 0 ? '-' : '';
    if (a < 1000) return s + Math.round(a) + 'ms';
    if (a < 60000) return s + +(a / 1000).toFixed(a < 10000 ? 2 : 1) + 's';
    var sec = Math.round(a / 1000),
      m = Math.floor(sec / 60),
      r = sec % 60;
    if (a < 3600000) return s + m + 'm' + (r ? (r < 10 ? '0' : '') + r + 's' : '');
    var h = Math.floor(m / 60),
      rm = m % 60;
    return s + h + 'h' + (rm ? (rm < 10 ? '0' : '') + rm + 'm' : '');
  }
  function fmtCount(v) {
    return v == null ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(1);
  }
  function dpr() {
    return window.devicePixelRatio || 1;
  }
  function widthOf(el, max) {
    return Math.max(260, Math.min(max, el.clientWidth || max));
  }
  function upTo(room) {
    return function (u, min, hi) {
      var top = Math.max(1, (hi == null ? 0 : hi) * (room || 1.15));
      return [room ? -top * 0.04 : 0, top];
    };
  }
  function durations(u, vals) {
    return vals.map(function (v) {
      return fmtDur(v * 1000);
    });
  }

  /** One run's replacement weight and failures per second over deployment time. */
  function timeline(el, data) {
    var run = data.report.runs[Number(el.dataset.run)];
    if (!run) throw new Error('no run ' + el.dataset.run);
    var xs = [],
      weight = [],
      failed = [];
    run.timeline.forEach(function (p) {
      xs.push(p.t / 1000);
      weight.push(p.weight);
      failed.push(p.original.failed + p.replacement.failed);
    });
    if (xs.length === 0) {
      el.textContent = 'No timeline recorded for this run.';
      return;
    }
    new uPlot(
      {
        width: widthOf(el, 520),
        height: 180,
        scales: { x: { time: false }, pct: { range: [0, 100] }, fail: { range: upTo() } },
        series: [
          {
            label: 'deployment time',
            value: function (u, v) {
              return fmtDur(v * 1000);
            },
          },
          { label: 'replacement weight (%)', scale: 'pct', stroke: C.weight, width: 2, fill: 'rgba(37,99,235,0.10)' },
          { label: 'failed per real second', scale: 'fail', stroke: C.failed, width: 1.5, dash: [6, 3] },
        ],
        axes: [
          { values: durations },
          {
            scale: 'pct',
            size: 46,
            label: 'weight',
            labelSize: 18,
            values: function (u, vals) {
              return vals.map(function (v) {
                return v + '%';
              });
            },
          },
          { scale: 'fail', side: 1, size: 46, label: 'failed/s', labelSize: 18, grid: { show: false } },
        ],
      },
      [xs, weight, failed],
      el,
    );
  }

  /** One figure's median per policy as bars, min–max as whiskers. */
  function bars(el, data) {
    var mode = el.dataset.mode,
      scenario = el.dataset.scenario,
      figure = el.dataset.figure;
    var isTime = figure === 'timeToFullTrafficMs';
    var names = [],
      med = [],
      lo = [],
      hi = [];
    data.policies.forEach(function (p) {
      var row = data.report.summary.find(function (r) {
        return r.mode === mode && r.scenario === scenario && r.policy === p;
      });
      if (!row) return;
      var s = row[figure];
      names.push(p);
      med.push(s ? s.median : null);
      lo.push(s ? s.min : null);
      hi.push(s ? s.max : null);
    });
    var xs = names.map(function (_, i) {
      return i;
    });
    var fmt = isTime ? fmtDur : fmtCount;
    var top = Math.max.apply(
      null,
      hi
        .map(function (v) {
          return v == null ? 0 : v;
        })
        .concat([1]),
    );
    new uPlot(
      {
        width: widthOf(el, Math.max(300, 110 * names.length)),
        height: 200,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false, range: [-0.5, names.length - 0.5] }, y: { range: [0, top * 1.15] } },
        series: [
          { label: 'policy' },
          {
            label: isTime ? 'time to 100% (median)' : 'failed (median)',
            stroke: C.bar,
            fill: 'rgba(15,118,110,0.55)',
            paths: uPlot.paths.bars({ size: [0.6, 56] }),
            points: { show: false },
          },
        ],
        axes: [
          {
            splits: function () {
              return xs;
            },
            values: function (u, vals) {
              return vals.map(function (v) {
                return names[v] || '';
              });
            },
            grid: { show: false },
          },
          {
            size: 56,
            values: function (u, vals) {
              return vals.map(fmt);
            },
          },
        ],
        hooks: {
          draw: [
            function (u) {
              whiskers(u, lo, hi);
            },
          ],
        },
      },
      [xs, med],
      el,
    );
  }

  function whiskers(u, lo, hi) {
    var ctx = u.ctx,
      ratio = dpr();
    ctx.save();
    ctx.strokeStyle = C.whisker;
    ctx.lineWidth = ratio;
    lo.forEach(function (l, i) {
      var h = hi[i];
      if (l == null || h == null || l === h) return;
      var x = u.valToPos(i, 'x', true),
        y1 = u.valToPos(l, 'y', true),
        y2 = u.valToPos(h, 'y', true),
        w = 6 * ratio;
      ctx.beginPath();
      ctx.moveTo(x, y1);
      ctx.lineTo(x, y2);
      ctx.moveTo(x - w, y1);
      ctx.lineTo(x + w, y1);
      ctx.moveTo(x - w, y2);
      ctx.lineTo(x + w, y2);
      ctx.stroke();
    });
    ctx.restore();
  }

  /** Speed against safety for one mode, Pareto policies starred. */
  function scatter(el, data) {
    var front = (data.view.pareto || []).find(function (f) {
      return f.mode === el.dataset.mode;
    });
    var pts = (front ? front.points : []).filter(function (p) {
      return p.speedMs !== null && p.failed !== null;
    });
    if (pts.length === 0) {
      el.textContent = 'Nothing to plot: the table beside says why.';
      return;
    }
    pts.sort(function (a, b) {
      return a.speedMs - b.speedMs;
    });
    var xs = pts.map(function (p) {
      return p.speedMs / 1000;
    });
    var on = pts.map(function (p) {
      return p.pareto ? p.failed : null;
    });
    var off = pts.map(function (p) {
      return p.pareto ? null : p.failed;
    });
    var none = function () {
      return null;
    };
    new uPlot(
      {
        width: widthOf(el, 560),
        height: 280,
        scales: { x: { time: false, range: upTo(1.35) }, y: { range: upTo(1.2) } },
        series: [
          {
            label: 'time to 100%',
            value: function (u, v) {
              return fmtDur(v * 1000);
            },
          },
          {
            label: 'Pareto (★)',
            stroke: C.pareto,
            paths: none,
            points: { show: true, space: 0, size: 13, fill: C.pareto },
          },
          {
            label: 'beaten',
            stroke: C.beaten,
            paths: none,
            points: { show: true, space: 0, size: 9, fill: '#ffffff' },
          },
        ],
        axes: [
          { label: 'time to 100% in healthy scenarios', values: durations },
          { label: 'failed in bad scenarios', size: 56 },
        ],
        hooks: {
          draw: [
            function (u) {
              pointLabels(u, pts, xs);
            },
          ],
        },
      },
      [xs, on, off],
      el,
    );
  }

  function pointLabels(u, pts, xs) {
    var ctx = u.ctx,
      ratio = dpr();
    ctx.save();
    ctx.fillStyle = '#111827';
    ctx.font = Math.round(12 * ratio) + 'px system-ui, sans-serif';
    pts.forEach(function (p, i) {
      var x = u.valToPos(xs[i], 'x', true),
        y = u.valToPos(p.failed, 'y', true);
      ctx.fillText(p.policy + (p.pareto ? ' ★' : ''), x + 9 * ratio, y - 7 * ratio);
    });
    ctx.restore();
  }

  var draw = { timeline: timeline, bars: bars, scatter: scatter };

  /**
   * Draws every `[data-chart]` element inside `root` (a document or an element) from `report` (the
   * report as the page carries it) and `view` (`{ pareto }`). Drawing again replaces what was drawn.
   */
  window.drawLabCharts = function (root, report, view) {
    var data = {
      report: report,
      view: view || {},
      policies: report.experiment.policies.map(function (p) {
        return p.name;
      }),
    };
    Array.prototype.forEach.call(root.querySelectorAll('[data-chart]'), function (el) {
      el.textContent = '';
      try {
        var chart = draw[el.dataset.chart];
        if (!chart) throw new Error('unknown chart ' + el.dataset.chart);
        chart(el, data);
      } catch (e) {
        el.textContent = 'This chart could not be drawn (' + (e && e.message) + '); the table beside has its figures.';
      }
    });
  };
})();
