// Plain SVG charts: server- and client-renderable, no chart library. Each has a data table for
// screen readers and a <title> per bar for hover.

type ErrorsDay = { day: string; critical: number; warning: number };

function shortDay(day: string) {
  const [, m, d] = day.split("-");
  return `${Number(d)} ${["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][Number(m) - 1]}`;
}

function niceMax(n: number) {
  if (n <= 4) return 4;
  if (n <= 10) return Math.ceil(n / 2) * 2;
  const p = 10 ** Math.floor(Math.log10(n));
  const m = n / p;
  return (m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

// every fifth day, and the last one flush with the right edge (never two labels on top of each other)
function DayLabel({
  i,
  n,
  bw,
  day,
}: {
  i: number;
  n: number;
  bw: number;
  day: string;
}) {
  const last = i === n - 1;
  if (!last && (i % 5 !== 0 || i > n - 6)) return null;
  return (
    <text
      x={last ? W - PAD.r : PAD.l + i * bw + bw / 2}
      y={H - 6}
      textAnchor={last ? "end" : "middle"}
      className="fill-slate-500 text-[24px] sm:text-[11px] dark:fill-slate-400"
    >
      {shortDay(day)}
    </text>
  );
}

const W = 720;
const H = 200;
const PAD = { l: 36, r: 8, t: 18, b: 26 };

export function ErrorsChart({ days }: { days: ErrorsDay[] }) {
  const max = niceMax(Math.max(1, ...days.map((d) => d.critical + d.warning)));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const bw = iw / days.length;
  const y = (v: number) => PAD.t + ih - (v / max) * ih;
  const ticks = [0, max / 2, max];
  return (
    <figure className="p-4">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        className="h-auto w-full"
        role="img"
        aria-labelledby="errors-chart-title"
      >
        {/* one string: the server renders a <title> of several children empty (React's rule for
            titles), so the chart had no name in the page as sent and its hydration failed */}
        <title id="errors-chart-title">
          {`Memory errors per day over the last ${days.length} days, by severity`}
        </title>
        {ticks.map((t) => (
          <g key={t}>
            <line
              x1={PAD.l}
              x2={W - PAD.r}
              y1={y(t)}
              y2={y(t)}
              className="stroke-slate-200 dark:stroke-slate-700"
              strokeWidth={1}
            />
            <text
              x={PAD.l - 6}
              y={y(t) + 4}
              textAnchor="end"
              className="fill-slate-500 text-[24px] sm:text-[11px] dark:fill-slate-400"
            >
              {t}
            </text>
          </g>
        ))}
        {days.map((d, i) => {
          const x = PAD.l + i * bw + bw * 0.15;
          const w = bw * 0.7;
          const hc = (d.critical / max) * ih;
          const hw = (d.warning / max) * ih;
          return (
            <g key={d.day}>
              <title>{`${d.day}: ${d.critical} critical, ${d.warning} warning`}</title>
              <rect
                x={PAD.l + i * bw}
                y={PAD.t}
                width={bw}
                height={ih}
                fill="transparent"
              />
              {hw > 0 ? (
                <rect
                  x={x}
                  y={y(d.critical + d.warning)}
                  width={w}
                  height={hw}
                  rx={1}
                  className="fill-amber-400 dark:fill-amber-500"
                />
              ) : null}
              {hc > 0 ? (
                <rect
                  x={x}
                  y={y(d.critical)}
                  width={w}
                  height={hc}
                  rx={1}
                  className="fill-red-600 dark:fill-red-500"
                />
              ) : null}
              <DayLabel i={i} n={days.length} bw={bw} day={d.day} />
            </g>
          );
        })}
      </svg>
      <figcaption className="mt-2 flex flex-wrap items-center gap-4 text-xs text-slate-600 dark:text-slate-300">
        <span className="flex items-center gap-1">
          <span
            aria-hidden
            className="inline-block h-2.5 w-2.5 rounded-sm bg-red-600"
          />{" "}
          Critical (consumed)
        </span>
        <span className="flex items-center gap-1">
          <span
            aria-hidden
            className="inline-block h-2.5 w-2.5 rounded-sm bg-amber-400"
          />{" "}
          Warning (found, not consumed)
        </span>
        <span>Days in UTC.</span>
      </figcaption>
      <details className="mt-2 text-sm">
        <summary className="cursor-pointer text-slate-600 dark:text-slate-300">
          Show as a table
        </summary>
        <DataTable
          caption="Memory errors per day"
          head={["Day (UTC)", "Critical", "Warning"]}
          rows={days
            .filter((d) => d.critical + d.warning > 0)
            .map((d) => [d.day, d.critical, d.warning])}
        />
      </details>
    </figure>
  );
}

type PagesDay = { day: string; pages: number; errors: number };

export function PagesChart({
  series,
  threshold,
  windowLabel,
}: {
  series: PagesDay[];
  threshold: number;
  windowLabel: string;
}) {
  const max = niceMax(Math.max(threshold + 1, ...series.map((d) => d.pages)));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const bw = iw / series.length;
  const y = (v: number) => PAD.t + ih - (v / max) * ih;
  return (
    <figure className="p-4">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        className="h-auto w-full"
        role="img"
        aria-labelledby="pages-chart-title"
      >
        <title id="pages-chart-title">
          {`Distinct poisoned pages per day over the last ${series.length} days, against the threshold of ${threshold}`}
        </title>
        {[0, max / 2, max].map((t) => (
          <g key={t}>
            <line
              x1={PAD.l}
              x2={W - PAD.r}
              y1={y(t)}
              y2={y(t)}
              className="stroke-slate-200 dark:stroke-slate-700"
              strokeWidth={1}
            />
            <text
              x={PAD.l - 6}
              y={y(t) + 4}
              textAnchor="end"
              className="fill-slate-500 text-[24px] sm:text-[11px] dark:fill-slate-400"
            >
              {t}
            </text>
          </g>
        ))}
        {series.map((d, i) => {
          const over = d.pages >= threshold;
          return (
            <g key={d.day}>
              <title>{`${d.day}: ${d.pages} distinct ${d.pages === 1 ? "page" : "pages"}, ${d.errors} ${d.errors === 1 ? "error" : "errors"}`}</title>
              <rect
                x={PAD.l + i * bw}
                y={PAD.t}
                width={bw}
                height={ih}
                fill="transparent"
              />
              {d.pages > 0 ? (
                <rect
                  x={PAD.l + i * bw + bw * 0.15}
                  y={y(d.pages)}
                  width={bw * 0.7}
                  height={(d.pages / max) * ih}
                  rx={1}
                  className={
                    over
                      ? "fill-red-600 dark:fill-red-500"
                      : "fill-sky-600 dark:fill-sky-400"
                  }
                />
              ) : null}
              <DayLabel i={i} n={series.length} bw={bw} day={d.day} />
            </g>
          );
        })}
        <line
          x1={PAD.l}
          x2={W - PAD.r}
          y1={y(threshold)}
          y2={y(threshold)}
          strokeDasharray="6 4"
          strokeWidth={2}
          className="stroke-red-700 dark:stroke-red-400"
        />
        <text
          x={W - PAD.r - 4}
          y={y(threshold) - 6}
          textAnchor="end"
          className="fill-red-700 text-[24px] font-semibold sm:text-[11px] dark:fill-red-300"
        >
          threshold {threshold}
        </text>
      </svg>
      <figcaption className="mt-2 flex flex-wrap items-center gap-4 text-xs text-slate-600 dark:text-slate-300">
        <span className="flex items-center gap-1">
          <span
            aria-hidden
            className="inline-block h-2.5 w-2.5 rounded-sm bg-sky-600"
          />{" "}
          Distinct poisoned pages that day (UTC)
        </span>
        <span className="flex items-center gap-1">
          <span
            aria-hidden
            className="inline-block h-2.5 w-2.5 rounded-sm bg-red-600"
          />{" "}
          At or over the threshold
        </span>
        <span className="flex items-center gap-1">
          <span aria-hidden className="inline-block h-0.5 w-4 bg-red-700" /> The
          platform restarts the VM on a healthy host at {threshold} distinct
          pages within {windowLabel}
        </span>
      </figcaption>
      <details className="mt-2 text-sm">
        <summary className="cursor-pointer text-slate-600 dark:text-slate-300">
          Show as a table
        </summary>
        <DataTable
          caption="Distinct poisoned pages per day"
          head={["Day (UTC)", "Distinct pages", "Errors"]}
          rows={series
            .filter((d) => d.errors > 0)
            .map((d) => [d.day, d.pages, d.errors])}
        />
      </details>
    </figure>
  );
}

function DataTable({
  caption,
  head,
  rows,
}: {
  caption: string;
  head: string[];
  rows: (string | number)[][];
}) {
  if (!rows.length)
    return (
      <p className="mt-2 text-slate-600 dark:text-slate-300">
        No errors in this period.
      </p>
    );
  return (
    <table className="mt-2 text-sm">
      <caption className="sr-only">{caption}</caption>
      <thead>
        <tr>
          {head.map((h) => (
            <th key={h} scope="col" className="pr-6 text-left font-semibold">
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={String(r[0])}>
            {r.map((c, i) => (
              <td key={i} className="pr-6 tabular-nums">
                {c}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function windowLabel(seconds: number): string {
  if (seconds % 86400 === 0)
    return seconds === 86400 ? "24 hours" : `${seconds / 86400} days`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hours`;
  return `${Math.round(seconds / 60)} minutes`;
}
