// The notebook side of nbforge: a Jupyter client, nbformat, and the notebook runner.
export * from "./client.js";
export * from "./nbformat.js";
export * from "./run.js";
