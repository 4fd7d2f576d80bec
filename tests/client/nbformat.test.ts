// nbformat 4: reading, checking and writing notebooks, and turning iopub messages
// into outputs as JupyterLab's output area does.
import {
  DisplayIds,
  NotebookFormatError,
  OutputArea,
  parseNotebook,
  serializeNotebook,
  splitLines,
  type IopubMessage,
} from "nbforge/dist/notebook/nbformat.js";

function msg(msg_type: string, content: Record<string, unknown>): IopubMessage {
  return { header: { msg_type }, content };
}

// Written by hand the way Jupyter saves it: sorted keys, one-space indent, lines as arrays.
const JUPYTER_SAVED = `{
 "cells": [
  {
   "cell_type": "markdown",
   "id": "intro-1",
   "metadata": {},
   "source": [
    "# Title\\n",
    "text"
   ]
  },
  {
   "cell_type": "code",
   "execution_count": 3,
   "id": "code-2",
   "metadata": {
    "tags": [
     "raises-exception"
    ]
   },
   "outputs": [
    {
     "name": "stdout",
     "output_type": "stream",
     "text": [
      "a\\n",
      "b\\n"
     ]
    },
    {
     "data": {
      "application/json": {
       "k": [
        1,
        2
       ]
      },
      "text/plain": [
       "line 1\\n",
       "line 2"
      ]
     },
     "execution_count": 3,
     "metadata": {},
     "output_type": "execute_result"
    },
    {
     "ename": "ValueError",
     "evalue": "bad",
     "output_type": "error",
     "traceback": [
      "Traceback",
      "ValueError: bad"
     ]
    }
   ],
   "source": [
    "print('a')\\n",
    "print('b')\\n",
    "é = 'ü'"
   ]
  }
 ],
 "metadata": {
  "kernelspec": {
   "display_name": "Python 3",
   "language": "python",
   "name": "python3"
  }
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
`;

describe("reading and writing notebooks", () => {
  test("a notebook as Jupyter saves it reads into single strings", () => {
    const nb = parseNotebook(JUPYTER_SAVED, "saved.ipynb");
    expect(nb.metadata.kernelspec?.name).toBe("python3");
    expect(nb.cells.map((c) => c.id)).toEqual(["intro-1", "code-2"]);
    expect(nb.cells[0].source).toBe("# Title\ntext");
    const code = nb.cells[1];
    if (code.cell_type !== "code") throw new Error("expected a code cell");
    expect(code.source).toBe("print('a')\nprint('b')\né = 'ü'");
    expect(code.execution_count).toBe(3);
    expect(code.outputs[0]).toEqual({ output_type: "stream", name: "stdout", text: "a\nb\n" });
    expect(code.outputs[1]).toEqual({
      output_type: "execute_result",
      execution_count: 3,
      data: { "application/json": { k: [1, 2] }, "text/plain": "line 1\nline 2" },
      metadata: {},
    });
  });

  test("writing reproduces Jupyter's bytes exactly", () => {
    expect(serializeNotebook(parseNotebook(JUPYTER_SAVED))).toBe(JUPYTER_SAVED);
  });

  test("strings round-trip, whatever their line endings", () => {
    for (const text of ["", "x", "x\n", "\n\n", "a\r\nb", "a\n\nb\n", "no newline at end"]) {
      expect(splitLines(text).join("")).toBe(text);
      const nb = parseNotebook(
        JSON.stringify({ nbformat: 4, nbformat_minor: 4, metadata: {}, cells: [{ cell_type: "raw", metadata: {}, source: text }] }),
      );
      expect(parseNotebook(serializeNotebook(nb)).cells[0].source).toBe(text);
    }
  });

  test("cells get ids from nbformat 4.5 on, and none before", () => {
    const cells = [
      { cell_type: "code", metadata: {}, source: "1", outputs: [], execution_count: null },
      { cell_type: "code", id: "same", metadata: {}, source: "2", outputs: [], execution_count: null },
      { cell_type: "code", id: "same", metadata: {}, source: "3", outputs: [], execution_count: null },
    ];
    const v45 = parseNotebook(JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells }));
    const ids = v45.cells.map((c) => c.id);
    expect(ids.every((id) => typeof id === "string" && /^[a-zA-Z0-9_-]{1,64}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(3);
    expect(ids[1]).toBe("same");

    const v44 = parseNotebook(JSON.stringify({ nbformat: 4, nbformat_minor: 4, metadata: {}, cells }));
    expect(v44.cells.every((c) => c.id === undefined)).toBe(true);
    expect(serializeNotebook(v44)).not.toMatch(/"id"/);
  });

  test("errors name the file, the field and what was expected", () => {
    expect(() => parseNotebook("{", "broken.ipynb")).toThrow(/broken\.ipynb: not valid JSON/);
    expect(() => parseNotebook(JSON.stringify({ nbformat: 3, nbformat_minor: 0, cells: [] }), "old.ipynb")).toThrow(
      /old\.ipynb: nbformat: expected 4/,
    );
    const badCell = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code", source: 7, metadata: {} }] };
    expect(() => parseNotebook(JSON.stringify(badCell), "nb.ipynb")).toThrow(
      /nb\.ipynb: cells\[0\]\.source: expected a string or an array of strings, found 7/,
    );
    const badOutput = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [{ cell_type: "code", source: "", metadata: {}, execution_count: null, outputs: [{ output_type: "picture" }] }],
    };
    expect(() => parseNotebook(JSON.stringify(badOutput))).toThrow(NotebookFormatError);
    expect(() => parseNotebook(JSON.stringify(badOutput))).toThrow(/cells\[0\]\.outputs\[0\]\.output_type/);
  });
});

describe("outputs from iopub messages", () => {
  test("consecutive writes to one stream merge; another stream starts a new output", () => {
    const area = new OutputArea();
    area.handle(msg("status", { execution_state: "busy" }));
    area.handle(msg("execute_input", { code: "x", execution_count: 1 }));
    area.handle(msg("stream", { name: "stdout", text: "a" }));
    area.handle(msg("stream", { name: "stdout", text: "b\n" }));
    area.handle(msg("stream", { name: "stderr", text: "warn\n" }));
    area.handle(msg("stream", { name: "stdout", text: "c\n" }));
    expect(area.outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "ab\n" },
      { output_type: "stream", name: "stderr", text: "warn\n" },
      { output_type: "stream", name: "stdout", text: "c\n" },
    ]);
  });

  test("execute_result keeps its execution count; error keeps its traceback", () => {
    const area = new OutputArea();
    area.handle(msg("execute_result", { data: { "text/plain": "42" }, metadata: {}, execution_count: 7 }));
    area.handle(msg("error", { ename: "E", evalue: "v", traceback: ["t1", "t2"] }));
    expect(area.outputs).toEqual([
      { output_type: "execute_result", execution_count: 7, data: { "text/plain": "42" }, metadata: {} },
      { output_type: "error", ename: "E", evalue: "v", traceback: ["t1", "t2"] },
    ]);
  });

  test("clear_output clears at once, or with wait only when the next output arrives", () => {
    const area = new OutputArea();
    area.handle(msg("stream", { name: "stdout", text: "old" }));
    area.handle(msg("clear_output", { wait: false }));
    expect(area.outputs).toEqual([]);

    area.handle(msg("stream", { name: "stdout", text: "frame 1" }));
    area.handle(msg("clear_output", { wait: true }));
    expect(area.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "frame 1" }]);
    area.handle(msg("stream", { name: "stdout", text: "frame 2" }));
    expect(area.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "frame 2" }]);
  });

  test("update_display_data changes every output with its display_id, in earlier cells too", () => {
    const displays = new DisplayIds();
    const first = new OutputArea([], displays);
    const second = new OutputArea([], displays);
    first.handle(msg("display_data", { data: { "text/plain": "step 0" }, metadata: {}, transient: { display_id: "p" } }));
    first.handle(msg("display_data", { data: { "text/plain": "other" }, metadata: {}, transient: { display_id: "q" } }));
    second.handle(msg("display_data", { data: { "text/plain": "step 0 again" }, metadata: {}, transient: { display_id: "p" } }));
    const changed = second.handle(
      msg("update_display_data", { data: { "text/html": "<b>1</b>" }, metadata: { x: 1 }, transient: { display_id: "p" } }),
    );
    expect(changed).toBe(true);
    const updated = { output_type: "display_data", data: { "text/html": "<b>1</b>" }, metadata: { x: 1 } };
    expect(first.outputs).toEqual([updated, { output_type: "display_data", data: { "text/plain": "other" }, metadata: {} }]);
    expect(second.outputs).toEqual([updated]);
    // The update adds nothing of its own, and an unknown id changes nothing.
    expect(second.handle(msg("update_display_data", { data: {}, metadata: {}, transient: { display_id: "zzz" } }))).toBe(false);
  });

  test("a cleared display no longer receives updates", () => {
    const displays = new DisplayIds();
    const area = new OutputArea([], displays);
    const shown = { data: { "text/plain": "a" }, metadata: {}, transient: { display_id: "d" } };
    area.handle(msg("display_data", shown));
    area.handle(msg("clear_output", { wait: false }));
    expect(area.handle(msg("update_display_data", { ...shown, data: { "text/plain": "b" } }))).toBe(false);
    expect(area.outputs).toEqual([]);
  });
});
