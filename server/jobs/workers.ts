// Imports every module that declares a pg-boss worker (defineWorker), so starting the workers
// in a process runs all of them.
import "@/server/notify/email-send";
import "@/server/notify/enqueue";
import "@/server/notify/webhook-worker";
