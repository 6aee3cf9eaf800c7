// Next calls register() once per server process: open the database, bootstrap, start the workers.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { startServices } = await import("./server/start-services");
  await startServices();
}
