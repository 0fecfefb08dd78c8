import { useMutation } from "convex/react";
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { errorCode, errorMessage } from "../../lib/errors";

/** How long a deleted post can be brought back before it is deleted on the server. */
export const UNDO_MS = 5_000;

export type PendingDelete = { id: Id<"posts">; title: string; due?: number };
/** A deletion being shown: `sent` once it has gone to the server (no undo any more). */
export type ShownDelete = PendingDelete & { sent: boolean };

const storageKey = (owner: string) => `gatehouse.pendingDeletes.${owner}`;

function readStored(owner: string): PendingDelete[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(storageKey(owner)) ?? "[]");
    return Array.isArray(parsed) ? (parsed as PendingDelete[]) : [];
  } catch {
    return [];
  }
}

function writeStored(owner: string, items: PendingDelete[]) {
  try {
    if (items.length === 0) localStorage.removeItem(storageKey(owner));
    else localStorage.setItem(storageKey(owner), JSON.stringify(items));
  } catch {
    // Storage full or blocked: the pagehide/unmount flush still sends the deletion.
  }
}

/**
 * Deletion with undo. A deleted post is hidden at once and deleted on the server after UNDO_MS
 * unless undone. A deletion the user asked for is never lost: leaving the dashboard sends it
 * at once, closing the tab sends it on `pagehide`, and it is also written down (per account)
 * until the server confirms, so if the page died before the write left, the next visit sends it.
 */
export function usePendingDeletes(owner: string | undefined, onError: (message: string) => void) {
  const remove = useMutation(api.posts.remove);
  const [pending, setPending] = useState<ShownDelete[]>([]);
  const timers = useRef(new Map<Id<"posts">, ReturnType<typeof setTimeout>>());
  const waiting = useRef(new Map<Id<"posts">, PendingDelete>());
  const onErrorRef = useRef(onError);
  useEffect(() => {
    onErrorRef.current = onError;
  });

  const forget = useCallback(
    (id: Id<"posts">) => {
      if (owner)
        writeStored(
          owner,
          readStored(owner).filter((p) => p.id !== id),
        );
    },
    [owner],
  );

  const send = useCallback(
    (item: PendingDelete) => {
      const timer = timers.current.get(item.id);
      if (timer !== undefined) clearTimeout(timer);
      timers.current.delete(item.id);
      waiting.current.delete(item.id);
      setPending((all) => [...all.filter((p) => p.id !== item.id), { ...item, sent: true }]);
      remove({ id: item.id }).then(
        () => {
          forget(item.id);
          setPending((all) => all.filter((p) => p.id !== item.id));
        },
        (error: unknown) => {
          forget(item.id);
          setPending((all) => all.filter((p) => p.id !== item.id));
          // Already gone (deleted in another tab) is what the user wanted anyway.
          if (errorCode(error) !== "NOT_FOUND") {
            onErrorRef.current(`“${item.title}” could not be deleted: ${errorMessage(error)}`);
          }
        },
      );
    },
    [remove, forget],
  );

  const flush = useCallback(() => {
    for (const item of [...waiting.current.values()]) send(item);
  }, [send]);

  const schedule = useCallback(
    (item: PendingDelete) => {
      const due = Date.now() + UNDO_MS;
      if (owner) writeStored(owner, [...readStored(owner).filter((p) => p.id !== item.id), { ...item, due }]);
      setPending((all) => [...all.filter((p) => p.id !== item.id), { ...item, sent: false }]);
      waiting.current.set(item.id, item);
      timers.current.set(
        item.id,
        setTimeout(() => send(item), UNDO_MS),
      );
    },
    [owner, send],
  );

  const undo = useCallback(
    (id: Id<"posts">) => {
      if (!waiting.current.has(id)) return; // already sent
      clearTimeout(timers.current.get(id));
      timers.current.delete(id);
      waiting.current.delete(id);
      forget(id);
      setPending((all) => all.filter((p) => p.id !== id));
    },
    [forget],
  );

  // Deletions written down by a page that closed before sending them. One still inside its undo
  // window may belong to another open tab, which may yet undo it: it is sent only when due, and
  // only if still written down then.
  useEffect(() => {
    if (!owner) return;
    const later: ReturnType<typeof setTimeout>[] = [];
    for (const item of readStored(owner)) {
      if (waiting.current.has(item.id)) continue;
      const sendIfStillAsked = () => {
        if (readStored(owner).some((p) => p.id === item.id)) send(item);
      };
      const wait = (item.due ?? 0) - Date.now();
      if (wait > 0) later.push(setTimeout(sendIfStillAsked, wait));
      else sendIfStillAsked();
    }
    return () => later.forEach(clearTimeout);
  }, [owner, send]);

  // Leaving: the tab closing or going to another site, or this page unmounting (another route).
  useEffect(() => {
    window.addEventListener("pagehide", flush);
    return () => {
      window.removeEventListener("pagehide", flush);
      flush();
    };
  }, [flush]);

  return { pending, schedule, undo };
}
