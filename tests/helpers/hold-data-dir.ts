// Opens the embedded database in DATA_DIR and keeps it open until killed (lock tests).
import { openPglite } from "@/db/client";

const dir = process.argv[2];
if (!dir) throw new Error("usage: hold-data-dir.ts DIR");
await openPglite(dir);
process.stdout.write("ready\n");
setInterval(() => {}, 1 << 30);
