import { CopyButton } from "./copy-button";

// Playbook step bodies are plain text: "$ " lines are commands, indented lines are sample output,
// "- " and "1. " lines are lists, the rest are paragraphs.
type Block =
  | { kind: "p"; text: string }
  | { kind: "cmd"; lines: string[] }
  | { kind: "out"; lines: string[] }
  | { kind: "ul"; items: string[] }
  | { kind: "ol"; items: string[] };

export function parseStepBody(body: string): Block[] {
  const blocks: Block[] = [];
  for (const line of body.split("\n")) {
    const last = blocks[blocks.length - 1];
    if (line.startsWith("$ ")) {
      if (last?.kind === "cmd") last.lines.push(line.slice(2));
      else blocks.push({ kind: "cmd", lines: [line.slice(2)] });
    } else if (/^\s{2,}\S/.test(line)) {
      if (last?.kind === "out") last.lines.push(line.trim());
      else blocks.push({ kind: "out", lines: [line.trim()] });
    } else if (line.startsWith("- ")) {
      if (last?.kind === "ul") last.items.push(line.slice(2));
      else blocks.push({ kind: "ul", items: [line.slice(2)] });
    } else if (/^\d+\.\s/.test(line)) {
      const text = line.replace(/^\d+\.\s/, "");
      if (last?.kind === "ol") last.items.push(text);
      else blocks.push({ kind: "ol", items: [text] });
    } else if (line.trim()) {
      blocks.push({ kind: "p", text: line });
    }
  }
  return blocks;
}

export function StepBody({ body }: { body: string }) {
  return (
    <div className="space-y-3 text-sm leading-6 text-slate-700 dark:text-slate-200">
      {parseStepBody(body).map((b, i) => {
        switch (b.kind) {
          case "p":
            return <p key={i}>{b.text}</p>;
          case "ul":
            return (
              <ul key={i} className="list-disc space-y-1 pl-5">
                {b.items.map((t, j) => (
                  <li key={j}>{t}</li>
                ))}
              </ul>
            );
          case "ol":
            return (
              <ol key={i} className="list-decimal space-y-1 pl-5">
                {b.items.map((t, j) => (
                  <li key={j}>{t}</li>
                ))}
              </ol>
            );
          case "cmd":
            return (
              <div
                key={i}
                className="overflow-hidden rounded-md bg-slate-900 dark:bg-black/60"
              >
                <div className="flex items-center justify-between border-b border-slate-700 px-4 py-1 text-xs text-slate-300">
                  <span>Run on the VM</span>
                  <CopyButton text={b.lines.join("\n")} label="Copy" />
                </div>
                <pre
                  tabIndex={0}
                  aria-label="Commands"
                  className="overflow-x-auto px-4 py-3 font-mono text-[13px] leading-5 text-slate-100"
                >
                  <code>{b.lines.map((l) => `$ ${l}`).join("\n")}</code>
                </pre>
              </div>
            );
          case "out":
            return (
              <pre
                key={i}
                tabIndex={0}
                aria-label="Sample output"
                className="overflow-x-auto rounded-md border border-slate-200 bg-slate-50 px-4 py-2 font-mono text-[13px] leading-5 text-slate-700 dark:border-slate-700 dark:bg-slate-950 dark:text-slate-300"
              >
                {b.lines.join("\n")}
              </pre>
            );
        }
      })}
    </div>
  );
}

export function PlaybookSteps({
  steps,
}: {
  steps: { title: string; body: string }[];
}) {
  return (
    <ol className="divide-y divide-slate-200 dark:divide-slate-800">
      {steps.map((s, i) => (
        <li key={i} className="px-4 py-4">
          <h3 className="mb-2 flex items-baseline gap-2 font-semibold">
            <span
              aria-hidden
              className="grid h-6 w-6 shrink-0 place-items-center rounded-full bg-rose-100 text-xs font-bold text-rose-800 dark:bg-rose-950 dark:text-rose-200"
            >
              {i + 1}
            </span>
            <span>{s.title}</span>
          </h3>
          <div className="pl-8">
            <StepBody body={s.body} />
          </div>
        </li>
      ))}
    </ol>
  );
}
