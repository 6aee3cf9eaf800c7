"use client";
import { useEffect } from "react";
import { secondaryButton } from "@/app/_components/ui";

// Errors are shown, not swallowed: the message and a way to try again.
export default function ConsoleError({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <div
      role="alert"
      className="mx-auto max-w-xl rounded-lg border border-red-300 bg-red-50 p-6 dark:border-red-900 dark:bg-red-950/50"
    >
      <h1 className="text-lg font-semibold text-red-900 dark:text-red-100">
        Something went wrong
      </h1>
      <p className="mt-2 text-sm text-red-800 dark:text-red-200">
        {error.message || "The page could not be loaded."}
      </p>
      {error.digest ? (
        <p className="mt-1 text-xs text-red-700 dark:text-red-300">
          Reference: {error.digest}
        </p>
      ) : null}
      <button
        type="button"
        onClick={reset}
        className={`${secondaryButton} mt-4`}
      >
        Try again
      </button>
    </div>
  );
}
