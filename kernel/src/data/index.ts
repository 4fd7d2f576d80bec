// Data: datasets, record readers (JSON Lines, Parquet) and the seeded DataLoader.
export { ArrayDataset, TokenDataset, TextDataset } from "./dataset.js";
export type { Dataset, Example, TokenDatasetOptions, TextDatasetOptions } from "./dataset.js";
export { readJsonl, streamJsonl, readParquet } from "./records.js";
export type { JsonRecord, ParquetReadOptions } from "./records.js";
export { DataLoader, collate } from "./loader.js";
export type { Batch, CollateOptions, DataLoaderOptions, DataLoaderState } from "./loader.js";
