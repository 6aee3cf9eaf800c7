// npm start: build once if needed, then run the production server in this one process tree.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
if (!existsSync(".next/BUILD_ID") || process.argv.includes("--rebuild")) {
  console.log("Building Poisonwatch (first start only; takes about a minute)…");
  const b = spawnSync("node_modules/.bin/next", ["build"], {
    stdio: "inherit",
    env,
  });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const port = process.env.PORT ?? "3000";
const child = spawn("node_modules/.bin/next", ["start", "-p", port], {
  stdio: "inherit",
  env,
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
