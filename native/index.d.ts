/** Version of the compiled addon, the same as this package's version. */
export declare function version(): string;

/** Whether this CPU runs the AVX2+FMA kernels (false on non-x86 machines). */
export declare function hasAvx2(): boolean;

/**
 * Dot product of two Float64Arrays of the same length.
 * Throws TypeError for other argument types and RangeError for unequal lengths.
 */
export declare function dot(a: Float64Array, b: Float64Array): number;

declare const native: {
  version: typeof version;
  hasAvx2: typeof hasAvx2;
  dot: typeof dot;
  addon: NativeAddon;
};
export default native;

/** Every function the native modules register, by name; typed where it is used. */
export type NativeAddon = { readonly [name: string]: (...args: never[]) => unknown };
export declare const addon: NativeAddon;
