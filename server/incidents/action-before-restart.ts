// The one thing to do before a restart, from the filled playbook: the first instruction of its
// "How to prepare" (or "While it moves") step, else that step's title.
export function actionBeforeRestart(
  steps: { title: string; body: string }[],
): string | null {
  const step = steps.find((s) =>
    /prepare|while it moves|before/i.test(s.title),
  );
  if (!step) return null;
  const first = step.body
    .split("\n")
    .map((l) => l.trim())
    .find(
      (l) =>
        l.startsWith("- ") ||
        (!l.startsWith("$") && !l.endsWith(":") && l.length > 0),
    );
  return first ? first.replace(/^- /, "") : step.title;
}
