import { createCallerFactory, router } from "./init";
import { channelRouter } from "./routers/channel";
import { feedRouter } from "./routers/feed";
import { incidentRouter } from "./routers/incident";
import { logEntryRouter } from "./routers/log-entry";
import { notificationRouter } from "./routers/notification";
import { operatorRouter } from "./routers/operator";
import { outboxRouter } from "./routers/outbox";
import { projectRouter } from "./routers/project";
import { settingsRouter } from "./routers/settings";
import { tenantRouter } from "./routers/tenant";
import { vmRouter } from "./routers/vm";

export const appRouter = router({
  channel: channelRouter,
  feed: feedRouter,
  incident: incidentRouter,
  logEntry: logEntryRouter,
  notification: notificationRouter,
  operator: operatorRouter,
  outbox: outboxRouter,
  project: projectRouter,
  settings: settingsRouter,
  tenant: tenantRouter,
  vm: vmRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
