/**
 * The clerk-js version Gatehouse is tested with. Production pins it (`clerkJSVersion`) instead of
 * floating on Clerk's latest 5.x; offline the same version is served from node_modules, and
 * `local/clerkjs/version.test.ts` fails when the installed clerk-js or clerk-react's default moves
 * away from it without the Frontend API emulation being re-verified.
 */
export const CLERK_JS_VERSION = "5.128.0";
