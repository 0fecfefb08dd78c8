/**
 * Durability: a snapshot plus an append-only log of committed writes under the data dir.
 *
 * - `snapshot.json`: every document (Convex JSON, with `_id` and `_creationTime`), the id
 *   counter and the clocks, written to a temp file, fsynced and renamed into place.
 * - `journal.log`: one JSON line per commit, `{"ts":"…","w":[[id, doc | null], …]}`, appended
 *   synchronously inside the commit and fdatasynced before any acknowledgement leaves the
 *   server, so an acknowledged write survives `kill -9` (and a power cut).
 *
 * On start the snapshot is loaded and the log replayed (a torn last line from a crash is
 * dropped), then both are compacted into a fresh snapshot.
 *
 * A commit line may also carry the replay record of the client mutation that made it,
 * `"r":[key, result]` (mutationLog.ts names the key), in the same line as its writes: the record
 * is durable exactly when the commit is, so a client resending that mutation after a `kill -9`
 * gets the original result instead of a second run — Convex keeps this record in the
 * mutation's own transaction too. The most recent records survive compaction in the snapshot.
 */
import fs from "node:fs";
import path from "node:path";
import type { JSONValue } from "convex/values";

export type StoredState = {
  /** Documents by id, as Convex JSON. */
  docs: Map<string, Record<string, JSONValue>>;
  /** The next id counter (ids are never reused, even for deleted documents). */
  nextDocId: number;
  lastCreationTime: number;
  /** Latest commit timestamp (ns). */
  lastCommitTs: bigint;
};

/** A committed client mutation's result, by its replay key; `ts` is the commit's. */
export type ReplayRecord = { result: JSONValue; ts: bigint };

type SnapshotFile = {
  format: "gatehouse-local-backend-snapshot";
  version: 1;
  nextDocId: number;
  lastCreationTime: number;
  lastCommitTs: string;
  docs: Record<string, JSONValue>[];
  /** Recent replay records, oldest first: [key, result, ts]. Absent in older snapshots. */
  replays?: [string, JSONValue, string][];
};

type LogEntry = { ts: string; w: [string, Record<string, JSONValue> | null][]; r?: [string, JSONValue] };

/** Replay records kept; the oldest go first (a client resends within seconds of reconnecting). */
const REPLAY_LIMIT = 10_000;

const SNAPSHOT = "snapshot.json";
const LOG = "journal.log";
const LOCK = "backend.lock";

/** `000…10042posts` → 10042 (convex-test ids are a zero-padded counter plus the table name). */
export function idCounter(id: string): number {
  const match = /^[0-9]+/.exec(id);
  return match ? Number(match[0]) : 0;
}

export class Journal {
  readonly dir: string;
  /** Durable replay records by key, oldest first (bounded by REPLAY_LIMIT). */
  private readonly replays = new Map<string, ReplayRecord>();
  private fd: number | null = null;
  private unsynced = false;
  private logBytes = 0;
  private lockHeld = false;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates the directory and takes the lock (a live process holding it refuses the start). */
  open(reset: boolean): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const lockPath = path.join(this.dir, LOCK);
    // Created exclusively ("wx"), so two backends starting at once cannot both take it;
    // a lock left by a dead process is removed and taken once more.
    for (let attempt = 0; ; attempt++) {
      try {
        fs.writeFileSync(lockPath, String(process.pid), { flag: "wx" });
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
        const pid = Number(fs.readFileSync(lockPath, "utf8").trim());
        if (pid && pid !== process.pid && isAlive(pid)) {
          throw new Error(`data dir ${this.dir} is in use by another local backend (pid ${pid})`, {
            cause: error,
          });
        }
        fs.rmSync(lockPath, { force: true });
      }
    }
    this.lockHeld = true;
    if (reset) {
      fs.rmSync(path.join(this.dir, SNAPSHOT), { force: true });
      fs.rmSync(path.join(this.dir, LOG), { force: true });
    }
  }

  /** Reads the snapshot and replays the log. */
  load(): StoredState {
    const state: StoredState = { docs: new Map(), nextDocId: 10000, lastCreationTime: 0, lastCommitTs: 0n };
    const snapshotPath = path.join(this.dir, SNAPSHOT);
    if (fs.existsSync(snapshotPath)) {
      const snap = JSON.parse(fs.readFileSync(snapshotPath, "utf8")) as SnapshotFile;
      if (snap.format !== "gatehouse-local-backend-snapshot" || snap.version !== 1) {
        throw new Error(`unrecognized snapshot in ${snapshotPath}; start with --reset`);
      }
      for (const doc of snap.docs) state.docs.set(String(doc["_id"]), doc);
      for (const [key, result, ts] of snap.replays ?? []) this.remember(key, { result, ts: BigInt(ts) });
      state.nextDocId = snap.nextDocId;
      state.lastCreationTime = snap.lastCreationTime;
      state.lastCommitTs = BigInt(snap.lastCommitTs);
    }
    const logPath = path.join(this.dir, LOG);
    if (fs.existsSync(logPath)) {
      const text = fs.readFileSync(logPath, "utf8");
      const lines = text.split("\n");
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        if (!line) continue;
        let entry: LogEntry;
        try {
          entry = JSON.parse(line) as LogEntry;
        } catch (error) {
          // Only an unterminated last line can be torn (a crash mid-append); it was never acknowledged.
          if (i === lines.length - 1) break;
          throw new Error(`corrupt journal line ${i + 1} in ${logPath}: ${(error as Error).message}`, {
            cause: error,
          });
        }
        for (const [id, doc] of entry.w) {
          state.nextDocId = Math.max(state.nextDocId, idCounter(id) + 1);
          if (doc === null) state.docs.delete(id);
          else {
            state.docs.set(id, doc);
            const ct = doc["_creationTime"];
            if (typeof ct === "number") state.lastCreationTime = Math.max(state.lastCreationTime, ct);
          }
        }
        const ts = BigInt(entry.ts);
        if (ts > state.lastCommitTs) state.lastCommitTs = ts;
        if (entry.r) this.remember(entry.r[0], { result: entry.r[1], ts });
      }
    }
    for (const id of state.docs.keys()) state.nextDocId = Math.max(state.nextDocId, idCounter(id) + 1);
    return state;
  }

  /** Writes a full snapshot atomically and starts an empty log. */
  compact(state: StoredState): void {
    this.closeLog();
    const snap: SnapshotFile = {
      format: "gatehouse-local-backend-snapshot",
      version: 1,
      nextDocId: state.nextDocId,
      lastCreationTime: state.lastCreationTime,
      lastCommitTs: state.lastCommitTs.toString(),
      docs: [...state.docs.values()],
      replays: [...this.replays].map(([key, r]) => [key, r.result, r.ts.toString()]),
    };
    const snapshotPath = path.join(this.dir, SNAPSHOT);
    const tmp = `${snapshotPath}.tmp`;
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeSync(fd, JSON.stringify(snap));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, snapshotPath);
    fs.rmSync(path.join(this.dir, LOG), { force: true });
    syncDir(this.dir);
    this.openLog();
  }

  /**
   * Appends one commit (synchronously: the bytes are in the OS before the commit returns), with
   * the replay record of the client mutation that made it, if any.
   */
  append(
    ts: bigint,
    writes: [string, Record<string, JSONValue> | null][],
    replay?: { key: string; result: JSONValue },
  ): void {
    if (this.fd === null) this.openLog();
    const entry: LogEntry = { ts: ts.toString(), w: writes };
    if (replay) entry.r = [replay.key, replay.result];
    const line = JSON.stringify(entry) + "\n";
    const bytes = Buffer.from(line);
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(this.fd!, bytes, off);
    this.logBytes += bytes.length;
    this.unsynced = true;
    if (replay) this.remember(replay.key, { result: replay.result, ts });
  }

  /** The committed result of a client mutation, by replay key, if it is one of the recent ones. */
  replayOf(key: string): ReplayRecord | undefined {
    return this.replays.get(key);
  }

  private remember(key: string, record: ReplayRecord): void {
    this.replays.delete(key);
    this.replays.set(key, record);
    if (this.replays.size > REPLAY_LIMIT) {
      const oldest = this.replays.keys().next().value;
      if (oldest !== undefined) this.replays.delete(oldest);
    }
  }

  /** Flushes appended commits to stable storage; call before acknowledging anything. */
  sync(): void {
    if (!this.unsynced || this.fd === null) return;
    fs.fdatasyncSync(this.fd);
    this.unsynced = false;
  }

  get logSize(): number {
    return this.logBytes;
  }

  close(): void {
    this.sync();
    this.closeLog();
    if (this.lockHeld) {
      fs.rmSync(path.join(this.dir, LOCK), { force: true });
      this.lockHeld = false;
    }
  }

  private openLog(): void {
    const logPath = path.join(this.dir, LOG);
    this.fd = fs.openSync(logPath, "a");
    this.logBytes = fs.fstatSync(this.fd).size;
  }

  private closeLog(): void {
    if (this.fd !== null) {
      fs.fdatasyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = null;
      this.unsynced = false;
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Directory fsync is best effort (not supported everywhere).
  }
}
