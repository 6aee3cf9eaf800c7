import {
  ChannelIdInput,
  channelKinds,
  createChannel,
  CreateChannelInput,
  deleteChannel,
  getChannel,
  listChannelDeliveries,
  ListChannelDeliveriesInput,
  listChannels,
  ListChannelsInput,
  sendTestChannelMessage,
  updateChannel,
  UpdateChannelInput,
} from "@/server/notify/channel-subscriptions";
import { memberProcedure, router, tenantProcedure } from "../init";

// Chat and paging channels for the console: the same services as /api/v1/channels. A viewer
// reads; members and owners change and test.
export const channelRouter = router({
  kinds: tenantProcedure.query(() => channelKinds()),
  list: tenantProcedure
    .input(ListChannelsInput)
    .query(({ ctx, input }) => listChannels(ctx, input)),
  byId: tenantProcedure
    .input(ChannelIdInput)
    .query(({ ctx, input }) => getChannel(ctx, input)),
  create: memberProcedure
    .input(CreateChannelInput)
    .mutation(({ ctx, input }) => createChannel(ctx, input)),
  update: memberProcedure
    .input(UpdateChannelInput)
    .mutation(({ ctx, input }) => updateChannel(ctx, input)),
  delete: memberProcedure
    .input(ChannelIdInput)
    .mutation(({ ctx, input }) => deleteChannel(ctx, input)),
  sendTest: memberProcedure
    .input(ChannelIdInput)
    .mutation(({ ctx, input }) => sendTestChannelMessage(ctx, input)),
  deliveries: tenantProcedure
    .input(ListChannelDeliveriesInput)
    .query(({ ctx, input }) => listChannelDeliveries(ctx, input)),
});
