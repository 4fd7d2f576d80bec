// Execution history kept across kernel restarts (history_request: tail, range,
// search). Each kernel process is a new session; entries are appended to a JSON
// Lines file so that a crash loses nothing already run.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { HistoryRequestContent } from "../notebook/messages.js";
import { userDataDir } from "./paths.js";

export interface HistoryRecord {
  session: number;
  line: number;
  input: string;
  output?: string;
}

export type HistoryItem = [number, number, string] | [number, number, [string, string | null]];

/** A history_request's content, as the client sends it (every field optional here). */
export type HistoryQuery = Partial<HistoryRequestContent>;

export function defaultHistoryPath(): string {
  return process.env.NBFORGE_HISTORY_FILE ?? join(userDataDir(), "nbforge", "history.jsonl");
}

export class HistoryStore {
  private readonly records: HistoryRecord[] = [];
  private folderMade = false;
  readonly session: number;

  constructor(private readonly path = defaultHistoryPath()) {
    if (existsSync(path)) {
      for (const line of readFileSync(path, "utf8").split("\n")) {
        if (line.trim() === "") continue;
        try {
          this.records.push(JSON.parse(line) as HistoryRecord);
        } catch {
          // A torn last line from a killed kernel is skipped, not fatal.
        }
      }
    }
    this.session = this.records.reduce((max, r) => Math.max(max, r.session), 0) + 1;
  }

  add(line: number, input: string, output?: string): void {
    const record: HistoryRecord = { session: this.session, line, input, ...(output !== undefined ? { output } : {}) };
    this.records.push(record);
    try {
      if (!this.folderMade) mkdirSync(dirname(this.path), { recursive: true });
      this.folderMade = true;
      appendFileSync(this.path, `${JSON.stringify(record)}\n`);
    } catch {
      // History is a convenience; a read-only home must not break execution.
    }
  }

  query(q: HistoryQuery): HistoryItem[] {
    const pick = (r: HistoryRecord): HistoryItem =>
      q.output ? [r.session, r.line, [r.input, r.output ?? null]] : [r.session, r.line, r.input];
    switch (q.hist_access_type) {
      case "tail":
        return this.records.slice(-(q.n ?? 10)).map(pick);
      case "range": {
        const session = (q.session ?? 0) <= 0 ? this.session + (q.session ?? 0) : q.session!;
        const start = q.start ?? 0;
        const stop = q.stop ?? Infinity;
        return this.records.filter((r) => r.session === session && r.line >= start && r.line < stop).map(pick);
      }
      case "search": {
        const pattern = globToRegExp(q.pattern ?? "*");
        let found = this.records.filter((r) => pattern.test(r.input));
        if (q.unique) found = found.filter((r, i) => found.findLastIndex((o) => o.input === r.input) === i);
        return (q.n ? found.slice(-q.n) : found).map(pick);
      }
      default:
        return [];
    }
  }
}

/** IPython's history search pattern: a glob where * and ? are wildcards, matched against the whole input. */
function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[\\s\\S]*").replace(/\?/g, "[\\s\\S]");
  return new RegExp(`^${escaped}$`);
}
