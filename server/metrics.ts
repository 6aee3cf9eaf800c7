// In-process counters rendered as Prometheus text by GET /api/v1/admin/metrics.
type Labels = Record<string, string>;
type Series = Map<string, number>;

const g = globalThis as unknown as { __pwMetrics?: Map<string, { help: string; type: string; series: Series }> };
const registry = (g.__pwMetrics ??= new Map());

function key(labels: Labels): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`)
    .join(",");
}

function metric(name: string, help: string, type: "counter" | "gauge" | "summary") {
  let m = registry.get(name);
  if (!m) {
    m = { help, type, series: new Map() };
    registry.set(name, m);
  }
  return m;
}

export function inc(name: string, help: string, labels: Labels = {}, by = 1): void {
  const m = metric(name, help, "counter");
  const k = key(labels);
  m.series.set(k, (m.series.get(k) ?? 0) + by);
}

export function observe(name: string, help: string, value: number, labels: Labels = {}): void {
  inc(`${name}_sum`, help, labels, value);
  inc(`${name}_count`, help, labels, 1);
}

export function renderMetrics(gauges: { name: string; help: string; labels?: Labels; value: number }[] = []): string {
  const out: string[] = [];
  for (const [name, m] of registry) {
    out.push(`# HELP ${name} ${m.help}`, `# TYPE ${name} ${m.type}`);
    for (const [k, v] of m.series) out.push(`${name}${k ? `{${k}}` : ""} ${v}`);
  }
  const seen = new Set<string>();
  for (const gq of gauges) {
    if (!seen.has(gq.name)) {
      out.push(`# HELP ${gq.name} ${gq.help}`, `# TYPE ${gq.name} gauge`);
      seen.add(gq.name);
    }
    const k = key(gq.labels ?? {});
    out.push(`${gq.name}${k ? `{${k}}` : ""} ${gq.value}`);
  }
  return out.join("\n") + "\n";
}
