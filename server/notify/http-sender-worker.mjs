// The HTTP sender's thread (server/notify/http-sender.ts): connects, sends and reads the answer for
// each delivery the main thread hands it, with the same SSRF guard and keep-alive pools as
// deliverHttp in process. deliverHttp never throws, so every message gets exactly one answer.
import { parentPort } from "node:worker_threads";
import { deliverHttp } from "./http-deliver.mjs";

if (!parentPort)
  throw new Error("http-sender-worker.mjs runs as a worker thread");
const port = parentPort;
port.on("message", ({ id, request }) => {
  void deliverHttp(request).then((result) => port.postMessage({ id, result }));
});
port.postMessage({ ready: true });
