// What a cell asks of the regression test: nbval's comment markers and cell tags,
// and per-cell tolerances (`// nbval: rtol=1e-3, atol=1e-6`).
import { cellTags, type Cell } from "../nbformat.js";

export interface Tolerance {
  /** Relative tolerance for numbers: |got - expected| <= atol + rtol * |expected|. */
  rtol: number;
  /** Absolute tolerance for numbers. */
  atol: number;
}

/** How one cell is treated. */
export interface CellDirectives {
  /** Not executed at all (NBVAL_SKIP / nbval-skip). */
  skip: boolean;
  /** Executed; outputs are not compared (NBVAL_IGNORE_OUTPUT / nbval-ignore-output). */
  ignoreOutput: boolean;
  /** Compared even in --lax mode (NBVAL_CHECK_OUTPUT / nbval-check-output). */
  checkOutput: boolean;
  /** The cell must raise; ename and evalue are compared, not the traceback. */
  raisesException: boolean;
  /** Per-cell tolerance overrides, from an `nbval:` comment. */
  tolerance: Partial<Tolerance>;
}

/** nbval's option model: "check" is one setting (true: compare, false: ignore output). */
type Setting = { skip: true } | { check: boolean } | { raisesException: true };

const COMMENT_MARKERS: Record<string, Setting> = {
  NBVAL_SKIP: { skip: true },
  NBVAL_IGNORE_OUTPUT: { check: false },
  PYTEST_VALIDATE_IGNORE_OUTPUT: { check: false }, // nbval's older spelling
  NBVAL_CHECK_OUTPUT: { check: true },
  NBVAL_RAISES_EXCEPTION: { raisesException: true },
};

const TAG_MARKERS: Record<string, Setting> = {
  "nbval-skip": { skip: true },
  "nbval-ignore-output": { check: false },
  "nbval-check-output": { check: true },
  "nbval-raises-exception": { raisesException: true },
  "raises-exception": { raisesException: true },
};

/** A marker comment on a line of its own: `# NBVAL_SKIP` or `// NBVAL_SKIP`. */
const COMMENT_PATTERN = /^\s*(?:#+|\/\/)\s*([A-Z_]+)\s*$/;
/** `# nbval: rtol=1e-3 atol=0` or `// nbval: rtol=1e-3, atol=1e-8`. */
const TOLERANCE_PATTERN = /^\s*(?:#|\/\/)\s*nbval:\s*(.*)$/;

export class DirectiveError extends Error {}

/** The tolerance settings in one `nbval:` comment body, e.g. "rtol=1e-3, atol=1e-6". */
export function parseToleranceComment(body: string, where = "nbval comment"): Partial<Tolerance> {
  const result: Partial<Tolerance> = {};
  for (const part of body.split(/[,\s]+/).filter((p) => p !== "")) {
    const match = /^(rtol|atol)=(.+)$/.exec(part);
    const value = match ? Number(match[2]) : NaN;
    if (!match || !Number.isFinite(value) || value < 0) {
      throw new DirectiveError(`${where}: expected "rtol=<number>" or "atol=<number>" (numbers ≥ 0), found "${part}"`);
    }
    result[match[1] as keyof Tolerance] = value;
  }
  return result;
}

interface Settings {
  skip?: boolean;
  check?: boolean;
  raisesException?: boolean;
}

/**
 * Reads a cell's markers as nbval does: comments and tags set the same options
 * (skip, check, raises-exception); among comments the last one wins, and a
 * comment wins over a tag (NBVAL_CHECK_OUTPUT in the source overrides an
 * nbval-ignore-output tag, and the other way round).
 */
export function cellDirectives(cell: Cell, where = "cell"): CellDirectives {
  const fromComments: Settings = {};
  let tolerance: Partial<Tolerance> = {};
  for (const line of cell.source.split("\n")) {
    const marker = COMMENT_PATTERN.exec(line);
    if (marker && marker[1] in COMMENT_MARKERS) Object.assign(fromComments, COMMENT_MARKERS[marker[1]]);
    const tol = TOLERANCE_PATTERN.exec(line);
    if (tol) tolerance = { ...tolerance, ...parseToleranceComment(tol[1], where) };
  }
  const fromTags: Settings = {};
  for (const tag of cellTags(cell)) if (tag in TAG_MARKERS) Object.assign(fromTags, TAG_MARKERS[tag]);
  const settings: Settings = { ...fromTags, ...fromComments };
  return {
    skip: settings.skip === true,
    ignoreOutput: settings.check === false,
    checkOutput: settings.check === true,
    raisesException: settings.raisesException === true,
    tolerance,
  };
}

/** The first line of a cell's source that is not blank and not a marker, for reports. */
export function firstSourceLine(cell: Cell): string {
  const lines = cell.source.split("\n");
  const isMarker = (l: string) => (COMMENT_PATTERN.exec(l)?.[1] ?? "") in COMMENT_MARKERS || TOLERANCE_PATTERN.test(l);
  const meaningful = lines.find((l) => l.trim() !== "" && !isMarker(l));
  return (meaningful ?? lines[0] ?? "").trim();
}
