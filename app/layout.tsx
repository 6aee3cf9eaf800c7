import type { Metadata } from "next";
import { connection } from "next/server";
import { TRPCReactProvider } from "@/app/_trpc/client";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Poisonwatch", template: "%s · Poisonwatch" },
  description:
    "Uncorrectable memory errors on your VMs: what happened, what the platform did, what to do next.",
};

export default async function RootLayout({
  children,
}: {
  children: React.ReactNode;
}) {
  // rendered per request, never prerendered: every page's scripts carry that request's CSP nonce
  await connection();
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
        <TRPCReactProvider>{children}</TRPCReactProvider>
      </body>
    </html>
  );
}
