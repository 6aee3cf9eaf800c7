export function OwnerOnlyNote({ what, role }: { what: string; role: string }) {
  return (
    <p className="rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-700 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-300">
      Only owners can {what}. You are a {role} of this tenant.
    </p>
  );
}
