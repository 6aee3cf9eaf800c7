import path from "node:path";
import { ESLint } from "eslint";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";
import layers, { layerViolation } from "@/scripts/eslint-plugin-layers.mjs";

// The import direction (README "Architecture"), checked by the same rule `npm run lint` runs.
const root = path.resolve(__dirname, "../..");

function linter() {
  return new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ["**/*.{ts,tsx,mjs}"],
        languageOptions: { parser: tseslint.parser },
        plugins: { layers },
        rules: { "layers/imports": "error" },
      },
    ],
  });
}

// eslint-disable comments name rules this one-rule config does not load: only ours, and parse errors
const ours = (m: { ruleId: string | null; fatal?: boolean }) =>
  m.ruleId === "layers/imports" || m.fatal === true;

async function violationsIn(code: string, file: string) {
  const [r] = await linter().lintText(code, {
    filePath: path.join(root, file),
  });
  return r!.messages.filter(ours).map((m) => m.message);
}

describe("import layers", () => {
  it("no module of app/, server/, db/ or emails/ imports against the layers", async () => {
    const results = await linter().lintFiles([
      "app/**/*.{ts,tsx}",
      "server/**/*.{ts,tsx}",
      "db/**/*.ts",
      "emails/**/*.{ts,tsx}",
    ]);
    expect(results.length).toBeGreaterThan(150);
    const found = results.flatMap((r) =>
      r.messages.filter(ours).map((m) => `${r.filePath}: ${m.message}`),
    );
    expect(found).toEqual([]);
  }, 120_000);

  it("catches each kind of violation, by alias and by relative path", async () => {
    const cases: [file: string, code: string][] = [
      [
        "server/incidents/x.ts",
        `import { defineRoute } from "@/server/http/router";`,
      ],
      ["server/incidents/x.ts", `import { router } from "../trpc/init";`],
      ["server/policy/x.ts", `export { ErrorBody } from "../http/schemas";`],
      ["server/vms/x.ts", `const m = await import("@/server/trpc/router");`],
      ["db/x.ts", `import { env } from "@/server/env";`],
      ["db/schema/x.ts", `import type { Actor } from "../../server/context";`],
      ["server/x.ts", `import { useTRPC } from "@/app/_trpc/client";`],
      ["emails/x.tsx", `import { iso } from "@/server/core/time";`],
      ["emails/x.tsx", `import { newId } from "../db/ids";`],
    ];
    for (const [file, code] of cases)
      expect(await violationsIn(code, file), `${file}: ${code}`).toHaveLength(
        1,
      );
  }, 60_000);

  it("allows the directions the layers allow", async () => {
    const cases: [file: string, code: string][] = [
      [
        "server/http/routes/x.ts",
        `import { router } from "@/server/trpc/init";`,
      ],
      ["server/trpc/routers/x.ts", `import { iso } from "@/server/core/time";`],
      ["server/incidents/x.ts", `import { getDb } from "@/db";`],
      ["app/x.tsx", `import { trpc } from "@/server/trpc/rsc";`],
      [
        "emails/x.tsx",
        `import type { Incident } from "@/server/notify/render-email";`,
      ],
      ["emails/x.tsx", `import { type Row } from "@/db/schema";`],
      ["server/x.ts", `import { z } from "zod";`],
    ];
    for (const [file, code] of cases)
      expect(await violationsIn(code, file), `${file}: ${code}`).toEqual([]);
  }, 60_000);

  it("names the rule each direction breaks", () => {
    expect(
      layerViolation("server/audit.ts", "server/http/router", false),
    ).toMatch(/adapters/);
    expect(
      layerViolation("server/http/router.ts", "server/core/cursor", false),
    ).toBeNull();
    expect(layerViolation("emails/a.tsx", "db/schema", true)).toBeNull();
    expect(layerViolation("emails/a.tsx", "db/schema", false)).toMatch(
      /pure templates/,
    );
  });
});
