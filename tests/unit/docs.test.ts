import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderMetricsDoc } from "../../src/http/metrics-doc.ts";

describe("generated docs", () => {
  it("docs/metrics.md lists the metrics Loket registers (regenerate with npm run generate)", async () => {
    const committed = readFileSync(new URL("../../docs/metrics.md", import.meta.url), "utf8");
    const rendered = await renderMetricsDoc();
    expect(committed).toBe(rendered);
    expect(rendered).toContain("| `loket_transactions_total` | counter | `outcome` |");
  });
});
