// docs/metrics.md is generated from the metrics Loket registers; a unit test checks for drift.
import { createMetrics } from "./metrics.ts";

export async function renderMetricsDoc(): Promise<string> {
  const { registry, ...metrics } = createMetrics();
  const labels = new Map<string, string[]>();
  for (const m of Object.values(metrics)) {
    const names = (m as unknown as { labelNames?: string[] }).labelNames ?? [];
    labels.set((m as unknown as { name: string }).name, names);
  }
  const all = await registry.getMetricsAsJSON();
  const own = all.filter((m) => labels.has(m.name)).sort((a, b) => a.name.localeCompare(b.name));
  const rows = own.map((m) => `| \`${m.name}\` | ${String(m.type)} | ${(labels.get(m.name) ?? []).map((l) => `\`${l}\``).join(", ") || "-"} | ${m.help} |`);
  return [
    "# Metrics",
    "",
    "Generated from `src/http/metrics.ts` by `npm run generate`; do not edit. Served at `/metrics`",
    "(Prometheus text format) when `metrics.enabled` is true, beside the Node.js process metrics",
    "(`loket_process_*`, `loket_nodejs_*`).",
    "",
    "| metric | type | labels | meaning |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}
