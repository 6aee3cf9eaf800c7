import type { Db } from "@/db/client";
import type { VmChange } from "@/server/inventory/hooks";

// Placeholder until the evacuation workflow lands: a move completes a scheduled evacuation.
export async function onVmPlacementChanged(_db: Db, _change: VmChange): Promise<void> {}
