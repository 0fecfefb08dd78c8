import { ConvexReactClient } from "convex/react";
import { convexLogger } from "./convexLogger";
import { env } from "./env";

export const convex = new ConvexReactClient(env.VITE_CONVEX_URL, { logger: convexLogger });
