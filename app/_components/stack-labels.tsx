"use client";
import { useEffect, useRef } from "react";

// On a phone a table's rows become stacked cards (globals.css, table.pw-stack): each cell then
// shows its column's name above it, taken from data-label, which this sets from the headings.
export function StackLabels({ labels }: { labels: string[] }) {
  const ref = useRef<HTMLSpanElement>(null);
  const key = labels.join("\u0000");
  useEffect(() => {
    const table = ref.current?.closest("table");
    if (!table) return;
    const names = key.split("\u0000");
    const apply = () => {
      for (const body of Array.from(table.tBodies)) {
        for (const row of Array.from(body.rows)) {
          Array.from(row.cells).forEach((cell, i) => {
            const name = names[i];
            if (name && cell.dataset.label !== name) cell.dataset.label = name;
          });
        }
      }
    };
    apply();
    const observer = new MutationObserver(apply);
    observer.observe(table, { childList: true, subtree: true });
    return () => observer.disconnect();
  }, [key]);
  return <span ref={ref} hidden />;
}
