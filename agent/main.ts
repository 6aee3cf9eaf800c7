// poisonwatch-agent: the command. `npm run agent -- --help`; `npm run build:agent` bundles it.
import { Agent } from "./agent";
import { ConfigError, parseConfig, USAGE } from "./config";
import { jsonLogger } from "./log";

const log = jsonLogger();

async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (config === "help") {
    process.stdout.write(USAGE + "\n");
    return;
  }
  const agent = await Agent.start(config, { log });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      log.warn(
        "second signal: exiting now; the spool keeps what was not shipped",
        { signal: sig },
      );
      process.exit(1);
    }
    log.info("stopping: flushing the spool", { signal: sig });
    agent.stop({ flush: true, deadlineMs: 10_000 }).then(
      () => process.exit(0),
      (e: unknown) => {
        log.error("stop failed", { err: e });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

main().catch((e: unknown) => {
  log.error("agent failed to start", { err: e });
  process.exit(1);
});
