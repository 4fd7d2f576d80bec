import type { Browser } from "playwright-core";
export declare const CHROMIUM: string;
export declare function chromiumMissing(): string | undefined;
export declare function bundlePage(entry: string, outDir: string, name?: string): Promise<string>;
export declare function launchChromium(extraArgs?: string[]): Promise<Browser>;
