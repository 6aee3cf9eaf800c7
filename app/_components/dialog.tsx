"use client";
import { useEffect, useId, useRef, useState } from "react";
import { primaryButton, secondaryButton } from "./ui";

// The console's own modal dialog (the native <dialog>: focus is trapped, Escape closes it).
export function Dialog({
  open,
  onClose,
  title,
  children,
  confirmLabel,
  onConfirm,
  busy = false,
  confirmDisabled = false,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  children: React.ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  busy?: boolean;
  confirmDisabled?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={`${id}-title`}
      onClose={onClose}
      className="m-auto w-[calc(100%-2rem)] max-w-md rounded-lg border border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-900/50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"
    >
      {/* what a dialog holds is rendered while it is open: nothing of it is seen before, and its
          fields' values (times in the viewer's zone, say) are never rendered on the server */}
      {open ? (
        <form
          method="dialog"
          className="space-y-4 p-5"
          onSubmit={(e) => {
            e.preventDefault();
            onConfirm();
          }}
        >
          <h2 id={`${id}-title`} className="text-lg font-semibold">
            {title}
          </h2>
          <div className="space-y-3 text-sm text-slate-700 dark:text-slate-300">
            {children}
          </div>
          <div className="flex flex-wrap justify-end gap-2">
            <button type="button" className={secondaryButton} onClick={onClose}>
              Cancel
            </button>
            <button
              type="submit"
              className={primaryButton}
              disabled={busy || confirmDisabled}
            >
              {busy ? "Working…" : confirmLabel}
            </button>
          </div>
        </form>
      ) : null}
    </dialog>
  );
}

// A button that asks first, in the console's own dialog (never window.confirm).
export function ConfirmButton({
  label,
  accessibleLabel,
  title,
  confirmLabel,
  onConfirm,
  className,
  disabled = false,
  children,
}: {
  label: string;
  // the button's name for screen readers when the label alone is ambiguous (a row's "Remove")
  accessibleLabel?: string;
  title: string;
  confirmLabel?: string;
  onConfirm: () => void;
  className: string;
  disabled?: boolean;
  children: React.ReactNode;
}) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        className={className}
        disabled={disabled}
        onClick={() => setOpen(true)}
      >
        {label}
        {accessibleLabel ? (
          <span className="sr-only">{accessibleLabel.slice(label.length)}</span>
        ) : null}
      </button>
      <Dialog
        open={open}
        onClose={() => setOpen(false)}
        title={title}
        confirmLabel={confirmLabel ?? label}
        onConfirm={() => {
          setOpen(false);
          onConfirm();
        }}
      >
        {children}
      </Dialog>
    </>
  );
}
