// The import direction of Poisonwatch, as an ESLint rule (eslint.config.mjs) and a function the
// unit test runs over the tree (tests/unit/layers.test.ts):
//   app/ → server/ → db/; server/http and server/trpc are adapters no domain folder imports;
//   emails/ are pure templates (type-only imports of server/ and db/ allowed).
import path from "node:path";

const ADAPTERS = ["server/http", "server/trpc"];
const under = (p, dir) => p === dir || p.startsWith(dir + "/");

// The repository path an import names, or null for a package.
export function importTarget(fromFile, spec, root) {
  if (spec.startsWith("@/")) return spec.slice(2);
  if (spec.startsWith(".")) {
    const abs = path.resolve(path.dirname(path.resolve(root, fromFile)), spec);
    return path.relative(root, abs).split(path.sep).join("/");
  }
  return null;
}

// Why an import from `from` to `to` (repository paths) runs against the layers, or null.
export function layerViolation(from, to, typeOnly) {
  if (under(from, "db") && under(to, "server"))
    return "db/ must not import server/ (db reads its own env or takes arguments)";
  if (under(from, "server") && under(to, "app"))
    return "server/ must not import app/ (app → server, never back)";
  if (
    under(from, "emails") &&
    !typeOnly &&
    (under(to, "server") || under(to, "db"))
  )
    return "emails/ are pure templates: only type imports from server/ or db/";
  if (
    under(from, "server") &&
    !ADAPTERS.some((a) => under(from, a)) &&
    ADAPTERS.some((a) => under(to, a))
  )
    return "a domain module must not import the adapters server/http or server/trpc (move the shared code to server/core)";
  return null;
}

const isTypeOnly = (node) =>
  node.importKind === "type" ||
  node.exportKind === "type" ||
  (node.type === "ImportDeclaration" &&
    node.specifiers.length > 0 &&
    node.specifiers.every((s) => s.importKind === "type"));

const rule = {
  meta: {
    type: "problem",
    docs: { description: "imports follow the layers app → server → db" },
    schema: [],
    messages: { layer: "{{file}} imports {{spec}}: {{why}}" },
  },
  create(context) {
    const root = context.cwd;
    const file = path
      .relative(root, context.filename)
      .split(path.sep)
      .join("/");
    const check = (node, source) => {
      if (!source || typeof source.value !== "string") return;
      const to = importTarget(file, source.value, root);
      if (to === null) return;
      const why = layerViolation(file, to, isTypeOnly(node));
      if (why)
        context.report({
          node: source,
          messageId: "layer",
          data: { file, spec: source.value, why },
        });
    };
    return {
      ImportDeclaration: (n) => check(n, n.source),
      ExportNamedDeclaration: (n) => check(n, n.source),
      ExportAllDeclaration: (n) => check(n, n.source),
      ImportExpression: (n) =>
        check(n, n.source.type === "Literal" ? n.source : null),
    };
  },
};

const plugin = { rules: { imports: rule } };
export default plugin;
