"use client";
import { useState } from "react";

export function CopyButton({
  text,
  label = "Copy",
  className = "",
  size = "small",
}: {
  text: string | (() => string);
  label?: string;
  className?: string;
  size?: "small" | "normal";
}) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(
            typeof text === "function" ? text() : text,
          );
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        } catch {
          setCopied(false);
        }
      }}
      className={`rounded border border-slate-300 bg-white font-medium ${size === "small" ? "px-2 py-0.5 text-xs" : "px-3 py-2 text-sm shadow-sm"} text-slate-700 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-rose-600 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-200 dark:hover:bg-slate-700 ${className}`}
    >
      <span aria-live="polite">{copied ? "Copied" : label}</span>
    </button>
  );
}
