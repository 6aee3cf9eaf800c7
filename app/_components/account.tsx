"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useId, useState } from "react";
import { useTRPC } from "@/app/_trpc/client";

type Membership = { tenantId: string; tenantName: string; role: string };

export function TenantSwitcher({
  memberships,
  activeTenantId,
}: {
  memberships: Membership[];
  activeTenantId: string;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const id = useId();
  const sw = useMutation(
    trpc.tenant.switch.mutationOptions({
      onSuccess: () => {
        queryClient.clear();
        router.push("/overview");
        router.refresh();
      },
    }),
  );
  const active = memberships.find((m) => m.tenantId === activeTenantId);
  if (memberships.length < 2) {
    return (
      <span className="truncate text-sm font-medium text-slate-800 dark:text-slate-100">
        {active?.tenantName}
      </span>
    );
  }
  return (
    <div className="flex items-center gap-2">
      <label htmlFor={id} className="sr-only">
        Tenant
      </label>
      <select
        id={id}
        value={activeTenantId}
        disabled={sw.isPending}
        onChange={(e) => sw.mutate({ tenantId: e.target.value })}
        className="max-w-48 truncate rounded-md border border-slate-300 bg-white py-1 pr-7 pl-2 text-sm dark:border-slate-700 dark:bg-slate-900"
      >
        {memberships.map((m) => (
          <option key={m.tenantId} value={m.tenantId}>
            {m.tenantName}
          </option>
        ))}
      </select>
      {sw.error ? (
        <span role="alert" className="text-xs text-red-700 dark:text-red-300">
          {sw.error.message}
        </span>
      ) : null}
    </div>
  );
}

export function SignOutButton() {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        disabled={pending}
        onClick={async () => {
          setPending(true);
          setError(null);
          try {
            const res = await fetch("/api/auth/sign-out", {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: "{}",
            });
            if (!res.ok) throw new Error(`Sign-out failed (${res.status})`);
            // a full load, so no cached query of the signed-out session survives
            // eslint-disable-next-line @next/next/no-location-assign-relative-destination
            window.location.assign("/login");
          } catch (e) {
            setError(e instanceof Error ? e.message : "Sign-out failed");
            setPending(false);
          }
        }}
        className="rounded-md px-2 py-1 text-sm font-medium text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-rose-600 dark:text-slate-200 dark:hover:bg-slate-800"
      >
        Sign out
      </button>
      {error ? (
        <span role="alert" className="text-xs text-red-700 dark:text-red-300">
          {error}
        </span>
      ) : null}
    </>
  );
}
