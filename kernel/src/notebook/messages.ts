// Typed contents of the messages a client sends and receives (messaging spec 5.3).
// Type aliases rather than interfaces, so that each one is a JsonObject.
import type { JsonObject } from "../jupyter/wire.js";

export type ReplyStatus = "ok" | "error" | "aborted";

/** A mime-type-keyed bundle, as in display_data or inspect_reply. */
export type MimeBundle = { [mimeType: string]: unknown };

export type ErrorFields = { ename: string; evalue: string; traceback: string[] };

export type LanguageInfo = {
  name: string;
  version?: string;
  mimetype?: string;
  file_extension?: string;
  pygments_lexer?: string;
  codemirror_mode?: string | JsonObject;
  nbconvert_exporter?: string;
};

export type HelpLink = { text: string; url: string };

export type KernelInfoReplyContent = {
  status: ReplyStatus;
  protocol_version: string;
  implementation: string;
  implementation_version: string;
  language_info: LanguageInfo;
  banner: string;
  help_links?: HelpLink[];
  debugger?: boolean;
};

export type ExecuteRequestContent = {
  code: string;
  silent: boolean;
  store_history: boolean;
  user_expressions: Record<string, string>;
  allow_stdin: boolean;
  stop_on_error: boolean;
};

export type ExecuteReplyContent = {
  status: ReplyStatus;
  execution_count: number;
  user_expressions?: Record<string, JsonObject>;
  payload?: JsonObject[];
} & Partial<ErrorFields>;

export type CompleteReplyContent = {
  status: ReplyStatus;
  matches: string[];
  cursor_start: number;
  cursor_end: number;
  metadata: JsonObject;
};

export type InspectReplyContent = {
  status: ReplyStatus;
  found: boolean;
  data: MimeBundle;
  metadata: JsonObject;
};

export type IsCompleteReplyContent = {
  status: "complete" | "incomplete" | "invalid" | "unknown";
  indent?: string;
};

export type HistoryRequestContent = {
  output: boolean;
  raw: boolean;
  hist_access_type: "range" | "tail" | "search";
  session?: number;
  start?: number;
  stop?: number;
  n?: number;
  pattern?: string;
  unique?: boolean;
};

/** (session, line number, input) or, with output: true, (session, line, [input, output]). */
export type HistoryEntry = [number, number, string | [string, string | null]];

export type HistoryReplyContent = { status: ReplyStatus; history: HistoryEntry[] };

export type CommInfoReplyContent = { status: ReplyStatus; comms: Record<string, { target_name: string }> };

export type ShutdownReplyContent = { status: ReplyStatus; restart: boolean };

export type InterruptReplyContent = { status: ReplyStatus };

export type InputRequestContent = { prompt: string; password: boolean };

export type StatusContent = { execution_state: "starting" | "busy" | "idle" };
