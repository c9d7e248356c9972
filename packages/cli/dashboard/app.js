// The Stratus local platform dashboard: polls the launcher's JSON API and renders it.
// Plain browser module, no framework, no build step. Every piece of data reaches the DOM as text
// (textContent, attributes, text nodes), never as markup.

const POLL_MS = 1500;
const REQUEST_TIMEOUT_MS = 10_000;
const INCOMING = 'data/stratus-local-files/incoming/';
const SVG_NS = 'http://www.w3.org/2000/svg';
const PALETTE = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626'];

const state = {
  selectedJobId: null,
  selectedTraceId: null,
  hiddenScores: new Set(),
  data: { services: {}, jobs: {}, detail: {}, scores: {}, traces: {} },
  rendered: new Map(),
  online: null,
};

// ---------------------------------------------------------------- DOM helpers

function build(element, props, children) {
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') element.textContent = String(value);
    else if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** An HTML element: `h('td', { class: 'num' }, 'text', otherNode)`. */
const h = (tag, props, ...children) => build(document.createElement(tag), props, children);
/** An SVG element. */
const svg = (tag, props, ...children) => build(document.createElementNS(SVG_NS, tag), props, children);

/**
 * Replaces the content of `#id` only when what it shows changed, so polling keeps scroll, hover and
 * keyboard focus (the focused element is found again by its `data-focus-key`).
 */
function show(id, input, view) {
  const key = JSON.stringify(input);
  if (state.rendered.get(id) === key) return;
  state.rendered.set(id, key);
  const host = document.getElementById(id);
  const active = document.activeElement;
  const focusKey = host.contains(active) ? active.dataset.focusKey : undefined;
  host.replaceChildren(...[view(input)].flat());
  if (focusKey) host.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
}

const code = (text) => h('code', null, text);

function emptyState(title, ...hint) {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, title), h('p', null, ...hint));
}

function errorBox(what, message) {
  return h(
    'p',
    { class: 'error', role: 'alert' },
    `Could not load ${what}: ${message}. Retrying every ${POLL_MS / 1000} s.`,
  );
}

const loading = () => h('p', { class: 'muted' }, 'Loading…');

/** Renders a section's `{ value, error }`, or its loading and error states. */
function section(what, result, view) {
  if (result.error) return errorBox(what, result.error);
  if (result.value === undefined) return loading();
  return view(result.value);
}

function badge(label, tone = label.toLowerCase()) {
  return h('span', { class: `badge badge-${tone}` }, label);
}

/** A table with a caption for screen readers; headings listed in `numeric` are right-aligned. */
function table(props, caption, headings, rows, numeric = []) {
  const head = headings.map((title) =>
    h('th', { scope: 'col', class: numeric.includes(title) ? 'num' : undefined }, title),
  );
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      props,
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', null, h('tr', null, head)),
      h('tbody', null, rows),
    ),
  );
}

function definitions(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs
      .filter(([, value]) => value !== undefined)
      .map(([term, value]) => [h('dt', null, term), h('dd', null, value)]),
  );
}

// ---------------------------------------------------------------- formatting

const numberFormat = new Intl.NumberFormat();
const num = (value) => (typeof value === 'number' ? numberFormat.format(value) : '—');
const pct = (ratio) => `${Math.round(ratio * 1000) / 10}%`;
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : '—');
const dateTime = (iso) => (iso ? new Date(iso).toLocaleString([], { hour12: false }) : '—');

function ms(value) {
  if (typeof value !== 'number') return '—';
  if (value < 1000) return `${Math.round(value * 10) / 10} ms`;
  if (value < 60_000) return `${Number((value / 1000).toFixed(2))} s`;
  return `${Math.floor(value / 60_000)} min ${Math.round((value % 60_000) / 1000)} s`;
}

function bytes(value) {
  if (typeof value !== 'number') return '—';
  const units = ['B', 'KB', 'MB', 'GB'];
  const power = Math.min(units.length - 1, Math.floor(Math.log10(Math.max(value, 1)) / 3));
  return `${power === 0 ? value : (value / 1000 ** power).toFixed(1)} ${units[power]}`;
}

/** What a rule measured: ratios as percentages, the rest as written. */
function observed(result) {
  const { observed: value, type } = result;
  if (value === null || value === undefined) return 'nothing measured';
  const ratio = ['Completeness', 'IsComplete', 'Uniqueness', 'IsUnique', 'ColumnValues'].includes(type);
  if (typeof value === 'number') return ratio ? pct(value) : num(value);
  return String(value);
}

// ---------------------------------------------------------------- services

function servicesView({ services }) {
  if (services.length === 0)
    return emptyState('No services reported.', 'Start the platform with ', code('npm start'), '.');
  return services.map(serviceCard);
}

/**
 * Readiness checks as `{ name, ok, detail }`, from the contract's map `{ name: { ok, detail } }` or from
 * the list a service's own /ready answers (`[{ name, status: 'pass'|'fail', reason, detail }]`).
 */
function checksOf(checks) {
  if (Array.isArray(checks))
    return checks.map((check) => ({
      name: check.name,
      ok: check.status === 'pass',
      detail: check.reason ?? check.detail,
    }));
  return Object.entries(checks ?? {}).map(([name, check]) => ({ name, ok: check.ok, detail: check.detail }));
}

function serviceCard(service) {
  const checks = checksOf(service.checks);
  const failing = checks.filter((check) => !check.ok);
  const stats = service.stats;
  // The contract's `requests: { 2xx, ... }, in_flight`, or a service's own /stats body.
  const requests = stats?.requests?.by_status_class ?? stats?.requests ?? {};
  const inFlight = stats?.in_flight ?? stats?.requests?.in_flight;
  return h(
    'article',
    {
      class: service.ready ? 'service' : 'service bad',
      'data-testid': `service-${service.name}`,
      'data-ready': String(service.ready),
    },
    h(
      'header',
      null,
      h('h3', null, service.name),
      service.ready ? badge('Ready', 'done') : badge('Not ready', 'failed'),
    ),
    h('a', { href: service.url, class: 'url' }, service.url),
    failing.length > 0
      ? h(
          'ul',
          { class: 'checks', 'aria-label': 'Failing checks' },
          failing.map((check) =>
            h('li', null, h('strong', null, check.name), check.detail ? ` — ${check.detail}` : ''),
          ),
        )
      : h(
          'p',
          { class: 'checks-ok' },
          checks.length > 0 ? `All ${checks.length} checks pass` : 'No checks reported',
        ),
    stats
      ? definitions([
          ['Uptime', ms(Math.round(stats.uptime_s ?? 0) * 1000)],
          [
            'Requests',
            `${num(requests['2xx'] ?? 0)} ok · ${num(requests['4xx'] ?? 0)} 4xx · ${num(requests['5xx'] ?? 0)} 5xx`,
          ],
          ['In flight', num(inFlight)],
        ])
      : h('p', { class: 'muted' }, 'No stats yet.'),
  );
}

// ---------------------------------------------------------------- jobs

function jobsView({ jobs, selected }) {
  if (jobs.length === 0) {
    return emptyState(
      'No jobs yet.',
      'Copy a CSV into ',
      code(INCOMING),
      ' and watch: a job appears here within seconds and turns Done when its report is ready.',
    );
  }
  return table(
    { 'data-testid': 'jobs-table', class: 'jobs' },
    'Data-quality jobs, newest first. Choose a file to open its report.',
    ['Status', 'File', 'Rows', 'Rules passed', 'Rules failed', 'Duration', 'Created'],
    jobs.map((job) => jobRow(job, job.id === selected)),
    ['Rows', 'Rules passed', 'Rules failed', 'Duration'],
  );
}

function jobRow(job, selected) {
  const counters = job.metrics?.counters ?? {};
  const open = () => selectJob(job.id);
  return h(
    'tr',
    {
      'data-testid': 'job-row',
      'data-job-id': job.id,
      'data-status': job.status,
      class: selected ? 'selected' : undefined,
      onclick: open,
    },
    h('td', null, badge(job.status)),
    h(
      'td',
      null,
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          'data-focus-key': `job:${job.id}`,
          'aria-current': selected ? 'true' : undefined,
        },
        job.input?.source?.key ?? job.id,
      ),
    ),
    h('td', { class: 'num' }, num(counters.rows)),
    h('td', { class: 'num' }, num(counters.rules_passed)),
    h('td', { class: counters.rules_failed > 0 ? 'num failed' : 'num' }, num(counters.rules_failed)),
    h('td', { class: 'num' }, ms(job.metrics?.durationsMs?.total)),
    h(
      'td',
      null,
      h('time', { datetime: job.createdAt, title: dateTime(job.createdAt) }, time(job.createdAt)),
    ),
  );
}

function selectJob(id) {
  state.selectedJobId = id;
  state.data.detail = {};
  render();
  loadDetail().then(render);
  document.getElementById('job-detail').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

async function loadDetail() {
  const id = state.selectedJobId;
  if (!id) return;
  const result = await settle(getJson(`/api/jobs/${encodeURIComponent(id)}`));
  if (state.selectedJobId === id) state.data.detail = result;
}

function detailView(input) {
  if (!input.selected)
    return emptyState('No job selected.', 'Choose a file in the jobs table to see its data-quality report.');
  return section('the job', input.result, ({ job, report }) => jobReport(job, report));
}

function jobReport(job, report) {
  const source = job.input?.source ?? {};
  return h(
    'article',
    { 'data-testid': 'job-report', 'data-job-id': job.id, 'data-status': job.status, class: 'report' },
    h('header', { class: 'report-head' }, h('h3', null, source.key ?? job.id), badge(job.status)),
    definitions([
      ['Bucket', source.bucket],
      ['Size', source.size === undefined ? undefined : bytes(source.size)],
      ['Job', code(job.id)],
      ['Attempts', num(job.attempts)],
      ['Created', dateTime(job.createdAt)],
      ['Finished', job.finishedAt ? dateTime(job.finishedAt) : undefined],
      [
        'Ruleset',
        report
          ? report.ruleset
            ? `${report.ruleset.name} (${report.ruleset.prefix})`
            : 'none applies: profile only'
          : undefined,
      ],
    ]),
    job.error
      ? h(
          'p',
          { class: 'error', role: 'alert' },
          h('strong', null, job.error.code),
          ` — ${job.error.message}`,
        )
      : null,
    report ? reportBody(job, report) : pendingReport(job),
  );
}

function pendingReport(job) {
  if (job.status === 'Failed') return h('p', { class: 'muted' }, 'The job failed before writing a report.');
  return h(
    'p',
    { class: 'muted' },
    `The job is ${job.status}. Its report appears here when it is Done; the page refreshes by itself.`,
  );
}

function reportBody(job, report) {
  const { profile, summary } = report;
  return [
    h(
      'ul',
      { class: 'tiles', 'aria-label': 'Summary' },
      tile('Outcome', summary.outcome.replace('_', ' '), `outcome-${summary.outcome}`),
      tile('Rules passed', num(summary.rulesPassed), summary.rulesPassed > 0 ? 'outcome-passed' : ''),
      tile('Rules failed', num(summary.rulesFailed), summary.rulesFailed > 0 ? 'outcome-failed' : ''),
      tile('Rows', num(profile.rowCount)),
      tile('Columns', num(profile.columnCount)),
      tile(
        'Malformed rows',
        num(profile.malformedRowCount),
        profile.malformedRowCount > 0 ? 'outcome-failed' : '',
      ),
      tile('Duplicate rows', num(profile.duplicateRowCount)),
    ),
    h(
      'div',
      { class: 'report-grid' },
      h('div', null, h('h4', null, 'Rules'), rulesList(report.rules)),
      h('div', null, h('h4', null, 'Final metrics'), finalMetrics(job.metrics)),
    ),
    h('h4', null, 'Columns'),
    typesChart(profile.columns),
    columnsTable(profile),
    h('h4', null, 'Malformed rows'),
    malformedRows(profile),
  ];
}

const tile = (label, value, tone) =>
  h(
    'li',
    { class: `tile ${tone ?? ''}` },
    h('span', { class: 'tile-label' }, label),
    h('span', { class: 'tile-value' }, value),
  );

function rulesList(rules) {
  if (rules.length === 0)
    return h('p', { class: 'muted' }, 'No ruleset applies to this file, so only its profile was measured.');
  return h(
    'ul',
    { class: 'rules' },
    rules.map((rule) =>
      h(
        'li',
        { 'data-testid': 'rule-result', 'data-outcome': rule.outcome, class: `rule rule-${rule.outcome}` },
        h('span', { class: 'rule-mark', 'aria-hidden': 'true' }, rule.outcome === 'passed' ? '✓' : '✗'),
        h('span', { class: 'visually-hidden' }, `${rule.outcome}: `),
        code(rule.rule),
        h('span', { class: 'rule-observed' }, `measured ${observed(rule)}`),
        rule.reason ? h('span', { class: 'rule-reason' }, rule.reason) : null,
      ),
    ),
  );
}

function finalMetrics(metrics) {
  const counters = Object.entries(metrics?.counters ?? {});
  const durations = Object.entries(metrics?.durationsMs ?? {});
  if (counters.length + durations.length === 0) return h('p', { class: 'muted' }, 'No metrics recorded.');
  return definitions([
    ...counters.map(([name, value]) => [name.replaceAll('_', ' '), num(value)]),
    ...durations.map(([name, value]) => [`${name} duration`, ms(value)]),
  ]);
}

/** A table cell with a horizontal bar in [0, 1] (inline SVG) and its value as text. */
function barCell(ratio, tone, text) {
  const width = Math.max(0, Math.min(1, ratio)) * 100;
  return h(
    'td',
    { class: 'bar-cell' },
    svg(
      'svg',
      { class: 'bar', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
      svg('rect', { width: 100, height: 10, rx: 2, class: 'bar-track' }),
      svg('rect', { width, height: 10, rx: 2, class: `bar-fill ${tone}` }),
    ),
    text,
  );
}

/** How many columns have each inferred type, as one stacked bar with a legend. */
function typesChart(columns) {
  const counts = new Map();
  for (const column of columns) counts.set(column.inferredType, (counts.get(column.inferredType) ?? 0) + 1);
  let offset = 0;
  const types = [...counts.entries()].map(([type, count], index) => {
    const segment = {
      type,
      count,
      x: offset,
      width: (count / columns.length) * 100,
      color: PALETTE[index % PALETTE.length],
    };
    offset += segment.width;
    return segment;
  });
  return h(
    'figure',
    { class: 'types', 'data-testid': 'column-chart', 'data-chart': 'types' },
    h('figcaption', null, 'Inferred types'),
    svg(
      'svg',
      {
        viewBox: '0 0 100 6',
        preserveAspectRatio: 'none',
        role: 'img',
        'aria-label': types.map((t) => `${t.type}: ${t.count}`).join(', '),
      },
      types.map((t) =>
        svg(
          'rect',
          { x: t.x, width: t.width, height: 6, fill: t.color },
          svg('title', null, `${t.type}: ${t.count}`),
        ),
      ),
    ),
    h(
      'ul',
      { class: 'legend' },
      types.map((t) =>
        h(
          'li',
          null,
          h('span', { class: 'swatch', style: `background:${t.color}` }),
          `${t.type} × ${t.count}`,
        ),
      ),
    ),
  );
}

function columnsTable(profile) {
  const rows = Math.max(profile.rowCount, 1);
  return table(
    { class: 'columns' },
    'Per-column profile: type, null rate and distinct values',
    ['Column', 'Type', 'Null rate', 'Distinct values', 'Min', 'Max'],
    profile.columns.map((column) =>
      h(
        'tr',
        { 'data-testid': 'column-chart', 'data-column': column.name },
        h('th', { scope: 'row' }, column.name),
        h(
          'td',
          null,
          h('span', { class: 'type', title: `DQDL type ${column.dataType}` }, column.inferredType),
          column.typeMismatchCount > 0
            ? h('span', { class: 'mismatch' }, ` ${num(column.typeMismatchCount)} mismatched`)
            : null,
        ),
        barCell(column.nullRate, column.nullRate > 0 ? 'warn' : 'good', pct(column.nullRate)),
        barCell(column.approxDistinctCount / rows, 'info', `≈ ${num(column.approxDistinctCount)}`),
        h('td', { class: 'value' }, column.min ?? '—'),
        h('td', { class: 'value' }, column.max ?? '—'),
      ),
    ),
  );
}

function malformedRows(profile) {
  if (profile.malformedRows.length === 0) return h('p', { class: 'muted' }, 'None: every row could be read.');
  return [
    table(
      null,
      'Rows the CSV reader rejected',
      ['Line', 'Error', 'Column', 'Reason'],
      profile.malformedRows.map((row) =>
        h(
          'tr',
          null,
          h('td', { class: 'num' }, num(row.line)),
          h('td', null, code(row.errorType)),
          h('td', null, row.column ?? '—'),
          h('td', null, row.reason),
        ),
      ),
      ['Line'],
    ),
    profile.malformedRowsTruncated
      ? h(
          'p',
          { class: 'muted' },
          `Showing the first ${profile.malformedRows.length} of ${num(profile.malformedRowCount)}.`,
        )
      : null,
  ];
}

// ---------------------------------------------------------------- scores

function scoresView({ scores, hidden }) {
  if (scores.length === 0) {
    return emptyState(
      'No evaluation scores yet.',
      'They appear here, one line per score name, as soon as evaluation metrics scores a run against its ground truth.',
    );
  }
  const series = new Map();
  for (const score of scores) {
    if (!series.has(score.name))
      series.set(score.name, { name: score.name, color: PALETTE[series.size % PALETTE.length], points: [] });
    series
      .get(score.name)
      .points.push({ t: Date.parse(score.timestamp), value: score.value, traceId: score.traceId });
  }
  const visible = [...series.values()].filter((line) => !hidden.includes(line.name));
  return [lineChart(visible, series.size), scoreLegend([...series.values()], hidden)];
}

function lineChart(lines, total) {
  const [width, height, left, right, top, bottom] = [640, 240, 40, 12, 10, 26];
  const points = lines.flatMap((line) => line.points);
  const times = points.map((p) => p.t);
  const values = points.map((p) => p.value);
  const [t0, t1] = points.length
    ? [Math.min(...times), Math.max(...times)]
    : [Date.now() - 60_000, Date.now()];
  const [v0, v1] = [Math.min(0, ...values), Math.max(1, ...values)];
  const span = t1 - t0 || 60_000;
  const x = (t) => left + ((t - (t1 === t0 ? t0 - span / 2 : t0)) / span) * (width - left - right);
  const y = (v) => top + (1 - (v - v0) / (v1 - v0)) * (height - top - bottom);
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => v0 + f * (v1 - v0));
  const xTicks = t1 === t0 ? [t0] : [0, 1 / 3, 2 / 3, 1].map((f) => t0 + f * span);
  return h(
    'figure',
    { 'data-testid': 'scores-chart', class: 'chart' },
    svg(
      'svg',
      {
        viewBox: `0 0 ${width} ${height}`,
        role: 'img',
        'aria-label': `Line chart of ${lines.length} of ${total} score series over time`,
      },
      yTicks.map((v) => [
        svg('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), class: 'grid' }),
        svg(
          'text',
          { x: left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' },
          Math.round(v * 100) / 100,
        ),
      ]),
      xTicks.map((t, i) =>
        svg(
          'text',
          {
            x: x(t),
            y: height - 6,
            class: 'axis',
            'text-anchor': i === 0 ? 'start' : i === xTicks.length - 1 ? 'end' : 'middle',
          },
          time(new Date(t).toISOString()),
        ),
      ),
      lines.map((line) =>
        svg(
          'g',
          { stroke: line.color, fill: line.color },
          svg('polyline', {
            points: line.points.map((p) => `${x(p.t)},${y(p.value)}`).join(' '),
            fill: 'none',
            'stroke-width': 2,
          }),
          line.points.map((p) =>
            svg(
              'circle',
              { cx: x(p.t), cy: y(p.value), r: 3 },
              svg(
                'title',
                null,
                `${line.name}: ${p.value} at ${time(new Date(p.t).toISOString())}${p.traceId ? ` (trace ${p.traceId})` : ''}`,
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function scoreLegend(lines, hidden) {
  return h(
    'ul',
    { class: 'legend score-legend', 'aria-label': 'Score series (press to show or hide)' },
    lines.map((line) => {
      const last = line.points[line.points.length - 1];
      return h(
        'li',
        null,
        h(
          'button',
          {
            type: 'button',
            'aria-pressed': String(!hidden.includes(line.name)),
            'data-focus-key': `score:${line.name}`,
            onclick: () => {
              if (!state.hiddenScores.delete(line.name)) state.hiddenScores.add(line.name);
              render();
            },
          },
          h('span', { class: 'swatch', style: `background:${line.color}` }),
          line.name,
          h('span', { class: 'muted' }, ` ${Math.round(last.value * 1000) / 1000}`),
        ),
      );
    }),
  );
}

// ---------------------------------------------------------------- traces

function tracesView({ traces, selected }) {
  if (traces.length === 0) {
    return emptyState(
      'No traces yet.',
      'Every request a service handles is traced. Copy a CSV into ',
      code(INCOMING),
      ' and its processing shows up here as a waterfall.',
    );
  }
  const trace = traces.find((candidate) => candidate.traceId === selected);
  return [
    h(
      'ul',
      { class: 'trace-list', 'aria-label': 'Recent traces, newest first' },
      traces.map((t) => {
        const failed = t.spans.some((span) => span.status === 'ERROR');
        return h(
          'li',
          null,
          h(
            'button',
            {
              type: 'button',
              class: `trace-row ${t.traceId === selected ? 'selected' : ''}`,
              'data-testid': 'trace-row',
              'data-trace-id': t.traceId,
              'data-focus-key': `trace:${t.traceId}`,
              'aria-current': t.traceId === selected ? 'true' : undefined,
              onclick: () => {
                state.selectedTraceId = t.traceId;
                render();
              },
            },
            h('span', { class: 'trace-name' }, t.rootName, failed ? badge('error', 'failed') : null),
            h(
              'span',
              { class: 'muted' },
              `${t.service} · ${t.spans.length} spans · ${ms(t.durationMs)} · ${time(t.start)}`,
            ),
          ),
        );
      }),
    ),
    h(
      'div',
      null,
      trace
        ? waterfall(trace)
        : emptyState(
            selected ? 'That trace is no longer among the recent ones.' : 'No trace selected.',
            'Choose a trace to see its spans as a waterfall.',
          ),
    ),
  ];
}

/** Round values from 0 to `max`, 1, 2 or 5 × 10^n apart, about `count` steps. */
function roundTicks(max, count = 4) {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw);
  return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
}

/** Spans in tree order (each parent before its children, siblings by start), with their depth. */
function spanTree(spans) {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map();
  for (const span of [...spans].sort((a, b) => a.offsetMs - b.offsetMs)) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : null;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const ordered = [];
  const visit = (parent, depth) => {
    for (const span of children.get(parent) ?? []) {
      ordered.push({ span, depth });
      visit(span.spanId, depth + 1);
    }
  };
  visit(null, 0);
  return ordered;
}

function waterfall(trace) {
  const total = Math.max(trace.durationMs, ...trace.spans.map((span) => span.offsetMs + span.durationMs), 1);
  const services = [...new Set(trace.spans.map((span) => span.service))];
  const color = (service) => PALETTE[services.indexOf(service) % PALETTE.length];
  return h(
    'div',
    { 'data-testid': 'trace-waterfall', 'data-trace-id': trace.traceId, class: 'waterfall' },
    h(
      'header',
      null,
      h('h3', null, trace.rootName),
      h('p', { class: 'muted' }, code(trace.traceId), ` · started ${dateTime(trace.start)} · ${ms(total)}`),
    ),
    h(
      'div',
      { class: 'ticks', 'aria-hidden': 'true' },
      h('span'),
      h(
        'div',
        { class: 'tick-track' },
        roundTicks(total).map((t) => h('span', { style: `left:${(t / total) * 100}%` }, ms(t))),
      ),
    ),
    h(
      'ol',
      { class: 'spans' },
      spanTree(trace.spans).map(({ span, depth }) => {
        const annotations = Object.entries(span.annotations ?? {});
        return h(
          'li',
          { class: `span ${span.status === 'ERROR' ? 'span-error' : ''}` },
          h(
            'div',
            { class: 'span-label', style: `padding-left:${depth * 14}px` },
            h('span', { class: 'span-name' }, span.name),
            h(
              'span',
              { class: 'span-service' },
              h('span', { class: 'swatch', style: `background:${color(span.service)}` }),
              `${span.service} · ${span.kind.toLowerCase()}`,
            ),
          ),
          h(
            'div',
            { class: 'span-track' },
            h('div', {
              class: 'span-bar',
              'data-testid': 'span-bar',
              title: `${span.name}: ${ms(span.durationMs)} from +${ms(span.offsetMs)} (${span.status})`,
              style: `left:${(span.offsetMs / total) * 100}%;width:max(2px, ${(span.durationMs / total) * 100}%);background:${color(span.service)}`,
            }),
          ),
          h(
            'span',
            { class: 'span-duration' },
            ms(span.durationMs),
            span.status === 'ERROR' ? badge('error', 'failed') : null,
          ),
          annotations.length > 0
            ? h(
                'ul',
                {
                  class: 'annotations',
                  'aria-label': `Annotations of ${span.name}`,
                  style: `margin-left:${depth * 14}px`,
                },
                annotations.map(([key, value]) =>
                  h('li', null, h('span', { class: 'muted' }, `${key} `), String(value)),
                ),
              )
            : null,
        );
      }),
    ),
  );
}

// ---------------------------------------------------------------- sign in

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector('button');
  const result = document.getElementById('sign-in-result');
  button.disabled = true;
  result.replaceChildren(h('p', { class: 'muted' }, 'Signing in…'));
  try {
    const answer = await getJson('/api/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ email: form.elements.email.value }),
    });
    result.replaceChildren(
      h('p', { class: 'success' }, `Signed in as ${answer.email}`),
      definitions([
        ['User id', code(answer.userId)],
        ['Role', code(answer.roleArn)],
        ['Credentials expire', dateTime(answer.expiration)],
      ]),
      h('h4', null, 'Profile'),
      answer.profile
        ? h('pre', { class: 'profile' }, JSON.stringify(answer.profile, null, 2))
        : h('p', { class: 'muted' }, 'No profile stored for this user yet.'),
    );
  } catch (error) {
    result.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Sign-in failed: ${error.message}`));
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- polling

async function getJson(path, init) {
  const response = await fetch(path, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    ...init,
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
  return body;
}

/** A promise's outcome as `{ value }` or `{ error }`. */
const settle = (promise) =>
  promise.then(
    (value) => ({ value }),
    (error) => ({ error: error.message }),
  );

function render() {
  const { data } = state;
  show('services-body', data.services, (result) => section('services', result, servicesView));
  show('jobs-body', { ...data.jobs, selected: state.selectedJobId }, (input) =>
    section('jobs', input, (value) => jobsView({ ...value, selected: input.selected })),
  );
  show('job-detail-body', { selected: state.selectedJobId, result: data.detail }, detailView);
  show('scores-body', { ...data.scores, hidden: [...state.hiddenScores] }, (input) =>
    section('scores', input, (value) => scoresView({ ...value, hidden: input.hidden })),
  );
  show('traces-body', { ...data.traces, selected: state.selectedTraceId }, (input) =>
    section('traces', input, (value) => tracesView({ ...value, selected: input.selected })),
  );
}

function setConnection(online) {
  if (state.online !== online) {
    state.online = online;
    const status = document.getElementById('connection');
    status.textContent = online ? 'Live' : 'Cannot reach the platform. Is npm start running? Retrying…';
    status.className = online ? 'online' : 'offline';
  }
  if (online) document.getElementById('updated').textContent = `updated ${time(new Date().toISOString())}`;
}

async function poll() {
  const [services, jobs, scores, traces] = await Promise.all([
    settle(getJson('/api/services')),
    settle(getJson('/api/jobs?limit=50')),
    settle(getJson('/api/scores')),
    settle(getJson('/api/traces?limit=20')),
    loadDetail(),
  ]);
  Object.assign(state.data, { services, jobs, scores, traces });
  setConnection([services, jobs, scores, traces].some((result) => !result.error));
  render();
  setTimeout(poll, POLL_MS);
}

document.getElementById('sign-in-form').addEventListener('submit', signIn);
render();
poll();
