// Scripts run server code outside Next: make `import "server-only"` a no-op there, as Vitest does.
const Module = require("node:module");
const path = require.resolve("server-only");
const m = new Module(path);
m.filename = path;
m.loaded = true;
m.exports = {};
require.cache[path] = m;
