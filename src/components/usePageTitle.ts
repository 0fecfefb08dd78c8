import { useEffect } from "react";

/** Every page names itself in the tab and in history: "<page> · Gatehouse". */
export function usePageTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · Gatehouse` : "Gatehouse";
  }, [title]);
}
