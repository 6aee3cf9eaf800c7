import { redirect } from "next/navigation";

// Each kind of channel has its own page; the first one stands for all.
export default function ChannelsIndex() {
  redirect("/settings/channels/slack");
}
