"use client";
import type { NavItem } from "@/app/_components/nav";
import { TabNav } from "@/app/_components/nav";

const ITEMS: NavItem[] = [
  { href: "/operator", label: "Fleet", exact: true },
  { href: "/operator/hosts", label: "Hosts" },
  { href: "/operator/evacuations", label: "Evacuations" },
  { href: "/operator/policy", label: "Policy" },
  { href: "/operator/outbox", label: "Outbox" },
];

export function OperatorNav() {
  return <TabNav label="Operator console" items={ITEMS} />;
}
