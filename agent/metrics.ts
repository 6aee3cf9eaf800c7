// A small Prometheus text registry: counters and gauges with labels, and gauges read on scrape.
type Labels = Record<string, string>;
type Family = {
  help: string;
  type: "counter" | "gauge";
  values: Map<string, number>;
  read?: () => number;
};

const labelKey = (labels: Labels) =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([k, v]) =>
        `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
    )
    .join(",");

export class Metrics {
  private families = new Map<string, Family>();

  private family(name: string, help: string, type: Family["type"]): Family {
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { help, type, values: new Map() }));
    return f;
  }

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const f = this.family(name, help, "counter");
    const k = labelKey(labels);
    f.values.set(k, (f.values.get(k) ?? 0) + by);
  }

  set(name: string, help: string, value: number, labels: Labels = {}): void {
    this.family(name, help, "gauge").values.set(labelKey(labels), value);
  }

  // a gauge computed when scraped
  gauge(name: string, help: string, read: () => number): void {
    this.family(name, help, "gauge").read = read;
  }

  // declares a counter at 0 so dashboards see the series before the first event
  declare(name: string, help: string, labels: Labels = {}): void {
    const f = this.family(name, help, "counter");
    const k = labelKey(labels);
    if (!f.values.has(k)) f.values.set(k, 0);
  }

  get(name: string, labels: Labels = {}): number {
    const f = this.families.get(name);
    if (!f) return 0;
    return f.read ? f.read() : (f.values.get(labelKey(labels)) ?? 0);
  }

  text(): string {
    const out: string[] = [];
    for (const [name, f] of [...this.families].sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      if (f.read) out.push(`${name} ${f.read()}`);
      for (const [k, v] of f.values)
        out.push(k ? `${name}{${k}} ${v}` : `${name} ${v}`);
    }
    return out.join("\n") + "\n";
  }
}
