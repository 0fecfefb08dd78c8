import { createContext, useContext } from "react";

export type ToastKind = "success" | "error" | "info";
export type Toast = { id: number; text: string; kind: ToastKind };

export const ToastContext = createContext<{
  show: (text: string, kind?: ToastKind) => void;
  dismiss: (id: number) => void;
} | null>(null);

export function useToast() {
  const toast = useContext(ToastContext);
  if (!toast) throw new Error("useToast must be used inside <ToastProvider>");
  return toast;
}
