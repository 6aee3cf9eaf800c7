// Next calls register() once per server process: answer methods Next cannot, open the database,
// bootstrap, start the workers.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { installForeignMethodGuard } =
    await import("./server/http/foreign-methods");
  const { apiRouter } = await import("./server/http/routes");
  installForeignMethodGuard(apiRouter.allowAt);
  const { startServices } = await import("./server/start-services");
  await startServices();
}
