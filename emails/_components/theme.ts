import type { CSSProperties } from "react";

// Inline styles only: many mail clients drop <style> blocks, and Tailwind would add a build step to templates.
export const colors = {
  text: "#1f2933",
  muted: "#616e7c",
  border: "#e4e7eb",
  background: "#f5f7fa",
  surface: "#ffffff",
  brand: "#7b1fa2",
  link: "#5b1380",
  critical: "#b42318",
  warning: "#b54708",
  ok: "#027a48",
} as const;

export const fontFamily =
  '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';

export const monoFamily =
  'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace';

export const styles = {
  body: {
    backgroundColor: colors.background,
    fontFamily,
    color: colors.text,
    margin: 0,
    padding: "24px 0",
  },
  container: {
    backgroundColor: colors.surface,
    border: `1px solid ${colors.border}`,
    borderRadius: "6px",
    maxWidth: "600px",
    margin: "0 auto",
  },
  header: { borderBottom: `3px solid ${colors.brand}`, padding: "16px 24px" },
  brand: {
    color: colors.brand,
    fontSize: "18px",
    fontWeight: 700,
    letterSpacing: "0.02em",
    margin: 0,
  },
  content: { padding: "8px 24px 16px" },
  h1: {
    fontSize: "20px",
    lineHeight: "28px",
    fontWeight: 700,
    margin: "16px 0 8px",
  },
  h2: {
    fontSize: "16px",
    lineHeight: "24px",
    fontWeight: 600,
    margin: "16px 0 8px",
  },
  // long ids and URLs wrap on a phone instead of widening the mail
  paragraph: {
    fontSize: "14px",
    lineHeight: "22px",
    margin: "8px 0",
    overflowWrap: "anywhere" as const,
    wordBreak: "break-word" as const,
  },
  muted: {
    fontSize: "13px",
    lineHeight: "20px",
    color: colors.muted,
    margin: "8px 0",
  },
  mono: { fontFamily: monoFamily, fontSize: "13px" },
  link: { color: colors.link, textDecoration: "underline" },
  button: {
    backgroundColor: colors.brand,
    borderRadius: "4px",
    color: "#ffffff",
    display: "inline-block",
    fontSize: "14px",
    fontWeight: 600,
    padding: "10px 18px",
    textDecoration: "none",
  },
  fact: {
    fontSize: "13px",
    lineHeight: "20px",
    margin: "2px 0",
    overflowWrap: "anywhere" as const,
    wordBreak: "break-word" as const,
  },
  factLabel: { color: colors.muted },
  card: {
    border: `1px solid ${colors.border}`,
    borderRadius: "4px",
    padding: "8px 12px",
    margin: "8px 0",
  },
  hr: { borderColor: colors.border, margin: "0" },
  footer: { padding: "12px 24px 16px" },
  footerText: {
    fontSize: "12px",
    lineHeight: "18px",
    color: colors.muted,
    margin: "4px 0",
  },
} satisfies Record<string, CSSProperties>;

export function severityColor(severity: string): string {
  return severity === "CRITICAL"
    ? colors.critical
    : severity === "WARNING"
      ? colors.warning
      : colors.muted;
}
