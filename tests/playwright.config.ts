import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "@playwright/test";

// Playwright evaluates this file in the runner and again in every worker: the one-time work
// (build, fresh data folder or database) happens once and is handed on through the environment.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.E2E_PORT ?? 3217);
const baseURL = `http://127.0.0.1:${port}`;

if (!process.env.PW_E2E_RUN) {
  process.env.PW_E2E_RUN = String(Date.now());
  if (!existsSync(path.join(root, ".next/BUILD_ID"))) {
    const b = spawnSync("node_modules/.bin/next", ["build"], {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    });
    if (b.status !== 0) throw new Error("next build failed");
  }
  // earlier runs cannot clean up after themselves (the server outlives the teardown): drop what
  // they left behind once it is clearly stale, then make this run's own
  const stale = Date.now() - 6 * 3600_000;
  for (const d of readdirSync(tmpdir())) {
    const p = path.join(tmpdir(), d);
    if (d.startsWith("pw-e2e-") && statSync(p).mtimeMs < stale)
      rmSync(p, { recursive: true, force: true });
  }
  process.env.PW_E2E_DATA_DIR = mkdtempSync(path.join(tmpdir(), "pw-e2e-"));
  const pgUrl = process.env.E2E_DATABASE_URL;
  if (pgUrl) {
    const u = new URL(pgUrl);
    if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(u.hostname))
      throw new Error(`E2E refuses a non-local database (${u.hostname})`);
    const name = `pw_e2e_${process.pid}_${Date.now()}`;
    const script = `const p=require("postgres");const s=p(process.argv[1],{max:1,onnotice:()=>{}});
      (async()=>{for(const {datname} of await s.unsafe("select datname from pg_database where datname like 'pw_e2e_%'")){
        const t=Number(datname.split("_").pop());if(t&&t<${Date.now() - 6 * 3600_000})await s.unsafe('drop database if exists "'+datname+'" with (force)');}
      await s.unsafe("create database ${name}");await s.end();})().then(()=>process.exit(0),(e)=>{console.error(e);process.exit(1)})`;
    const r = spawnSync(process.execPath, ["-e", script, pgUrl], {
      cwd: root,
      stdio: "inherit",
    });
    if (r.status !== 0) throw new Error("could not create the e2e database");
    u.pathname = `/${name}`;
    process.env.PW_E2E_DATABASE_URL = u.toString();
  }
}

export default defineConfig({
  testDir: "./e2e",
  outputDir: path.join(root, "test-results/playwright"),
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL,
    timezoneId: "Europe/Berlin",
    locale: "en-GB",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  // the start banner's one-time links are used once, by start-banner.spec.ts, before any other spec
  projects: [
    { name: "start-banner", testMatch: /start-banner\.spec\.ts$/ },
    {
      name: "console",
      testIgnore: /start-banner\.spec\.ts$/,
      dependencies: ["start-banner"],
    },
  ],
  webServer: {
    command: `node_modules/.bin/next start -p ${port} -H 127.0.0.1`,
    cwd: root,
    // the start banner carries the one-time sign-in links (demo owner, demo operator) and the
    // operator token (fresh database)
    wait: {
      stdout:
        /Operator token[^\n]*\n\s*(?<pw_e2e_operator_token>pwo_\S+)[\s\S]*?owner@acme\.example\)[^\n]*\n\s*(?<pw_e2e_owner_link>http\S+)[\s\S]*?demo operator \([^)]*\)[^\n]*\n\s*(?<pw_e2e_operator_link>http\S+)/,
    },
    timeout: 180_000,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      NEXT_TELEMETRY_DISABLED: "1",
      PORT: String(port),
      PUBLIC_URL: baseURL,
      DATA_DIR: process.env.PW_E2E_DATA_DIR!,
      DATABASE_URL: process.env.PW_E2E_DATABASE_URL ?? "",
      POISONWATCH_DEMO: "1",
      OPERATOR_TOKEN: "",
      RESEND_API_KEY: "",
      BETTER_AUTH_SECRET: "",
      WEBHOOK_ALLOW_PRIVATE: "1",
    },
  },
});
