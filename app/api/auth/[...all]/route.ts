// /api/auth/* – better-auth: magic-link sign-in and verify, session, sign-out (bodies bounded, server/http/auth-route.ts)
import { handleAuthRequest } from "@/server/http/auth-route";

export const dynamic = "force-dynamic";

export { handleAuthRequest as GET, handleAuthRequest as POST };
