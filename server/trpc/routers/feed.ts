import { z } from "zod";
import {
  createFeedToken,
  FeedTokenId,
  listFeedTokens,
  revokeFeedToken,
} from "@/server/feeds/feed-tokens";
import { memberProcedure, router, tenantProcedure } from "../init";

// Feed tokens for the console's settings (the REST API at /api/v1/feed-tokens calls the same
// services). Everyone reads the list; members and owners make and revoke tokens.
export const feedRouter = router({
  listTokens: tenantProcedure.query(({ ctx }) => listFeedTokens(ctx)),
  createToken: memberProcedure.mutation(({ ctx }) => createFeedToken(ctx)),
  revokeToken: memberProcedure
    .input(z.object({ id: FeedTokenId }))
    .mutation(({ ctx, input }) => revokeFeedToken(ctx, input)),
});
