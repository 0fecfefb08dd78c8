import { createContext, useContext } from "react";
import type { LocalSession } from "./idpClient";

/** Lets the local sign-in forms start a session in the provider. */
export const LocalSessionContext = createContext<(session: LocalSession | null) => void>(() => {});
export const useStartLocalSession = () => useContext(LocalSessionContext);
