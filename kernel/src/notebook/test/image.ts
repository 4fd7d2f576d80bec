// Images compared as a person would: the same size, and a small perceptual
// distance (mean absolute difference of 32x32 grayscale thumbnails, 0 = same,
// 1 = black against white). PNG is decoded here (8- and 16-bit, every colour
// type, interlaced or not); JPEG and GIF are compared by size only; SVG by
// its width and height attributes.
import { inflateSync } from "node:zlib";

export interface ImageSize {
  width: number;
  height: number;
}

/** A grayscale image with values 0..255, alpha composited over white. */
export interface GrayImage extends ImageSize {
  pixels: Float64Array;
}

export class ImageDecodeError extends Error {}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function channelsOf(colorType: number): number {
  const channels: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
  const n = channels[colorType];
  if (n === undefined) throw new ImageDecodeError(`PNG: unknown colour type ${colorType}`);
  return n;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Reverses PNG's per-row filters in place; returns the raw rows. */
function unfilter(data: Buffer, offset: number, width: number, height: number, bitsPerPixel: number): { rows: Buffer[]; next: number } {
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const rows: Buffer[] = [];
  let previous = Buffer.alloc(stride);
  let at = offset;
  for (let y = 0; y < height; y++) {
    if (at + 1 + stride > data.length) throw new ImageDecodeError("PNG: image data ends early");
    const filter = data[at];
    const row = Buffer.from(data.subarray(at + 1, at + 1 + stride));
    at += 1 + stride;
    for (let x = 0; x < stride; x++) {
      const left = x >= bpp ? row[x - bpp] : 0;
      const up = previous[x];
      const upLeft = x >= bpp ? previous[x - bpp] : 0;
      switch (filter) {
        case 0:
          break;
        case 1:
          row[x] = (row[x] + left) & 0xff;
          break;
        case 2:
          row[x] = (row[x] + up) & 0xff;
          break;
        case 3:
          row[x] = (row[x] + ((left + up) >> 1)) & 0xff;
          break;
        case 4:
          row[x] = (row[x] + paeth(left, up, upLeft)) & 0xff;
          break;
        default:
          throw new ImageDecodeError(`PNG: unknown row filter ${filter}`);
      }
    }
    rows.push(row);
    previous = row;
  }
  return { rows, next: at };
}

/** Reads sample `i` (0-based) of `bits` bits from a row. */
function sample(row: Buffer, i: number, bits: number): number {
  if (bits === 8) return row[i];
  if (bits === 16) return row[2 * i]; // the high byte is enough for a perceptual comparison
  const perByte = 8 / bits;
  const byte = row[Math.floor(i / perByte)];
  const shift = 8 - bits * ((i % perByte) + 1);
  return (byte >> shift) & ((1 << bits) - 1);
}

export function decodePng(png: Buffer): GrayImage {
  if (png.length < 8 || !png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new ImageDecodeError("not a PNG (bad signature)");
  let at = 8;
  let header: { width: number; height: number; bitDepth: number; colorType: number; interlace: number } | undefined;
  let palette: Buffer | undefined;
  let transparency: Buffer | undefined;
  const idat: Buffer[] = [];
  while (at + 8 <= png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString("latin1", at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + length);
    at += 12 + length;
    if (type === "IHDR") {
      header = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), bitDepth: body[8], colorType: body[9], interlace: body[12] };
    } else if (type === "PLTE") palette = body;
    else if (type === "tRNS") transparency = body;
    else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") break;
  }
  if (!header) throw new ImageDecodeError("PNG: no IHDR chunk");
  const { width, height, bitDepth, colorType, interlace } = header;
  const channels = channelsOf(colorType);
  let data: Buffer;
  try {
    data = inflateSync(Buffer.concat(idat));
  } catch (e) {
    throw new ImageDecodeError(`PNG: cannot inflate image data: ${(e as Error).message}`);
  }
  const max = bitDepth === 16 ? 255 : (1 << Math.min(bitDepth, 8)) - 1;
  const pixels = new Float64Array(width * height);
  const toGray = (row: Buffer, x: number): number => {
    let r: number, g: number, b: number, a = 255;
    if (colorType === 3) {
      const index = sample(row, x, bitDepth);
      if (!palette) throw new ImageDecodeError("PNG: palette image without PLTE");
      [r, g, b] = [palette[3 * index], palette[3 * index + 1], palette[3 * index + 2]];
      if (transparency && index < transparency.length) a = transparency[index];
    } else {
      const s = (c: number) => (sample(row, x * channels + c, bitDepth) * 255) / max;
      if (colorType === 0 || colorType === 4) r = g = b = s(0);
      else [r, g, b] = [s(0), s(1), s(2)];
      if (colorType === 4) a = s(1);
      if (colorType === 6) a = s(3);
    }
    const gray = 0.299 * r + 0.587 * g + 0.114 * b;
    return (gray * a + 255 * (255 - a)) / 255;
  };
  const bitsPerPixel = channels * bitDepth;
  if (interlace === 0) {
    const { rows } = unfilter(data, 0, width, height, bitsPerPixel);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels[y * width + x] = toGray(rows[y], x);
  } else {
    // Adam7: seven passes, each a small filtered image.
    const passes = [
      [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
    ];
    let offset = 0;
    for (const [x0, y0, dx, dy] of passes) {
      const w = Math.ceil((width - x0) / dx);
      const h = Math.ceil((height - y0) / dy);
      if (w <= 0 || h <= 0) continue;
      const { rows, next } = unfilter(data, offset, w, h, bitsPerPixel);
      offset = next;
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) pixels[(y0 + y * dy) * width + x0 + x * dx] = toGray(rows[y], x);
    }
  }
  return { width, height, pixels };
}

/** Width and height from an image's header (PNG, JPEG, GIF), without decoding it. */
export function imageSize(bytes: Buffer): ImageSize | undefined {
  if (bytes.length >= 24 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) {
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes.length >= 10 && bytes.toString("latin1", 0, 3) === "GIF") {
    return { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let at = 2;
    while (at + 9 < bytes.length) {
      if (bytes[at] !== 0xff) return undefined;
      const marker = bytes[at + 1];
      const length = bytes.readUInt16BE(at + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { width: bytes.readUInt16BE(at + 7), height: bytes.readUInt16BE(at + 5) };
      }
      at += 2 + length;
    }
  }
  return undefined;
}

/** Width and height attributes of an SVG's root element, as written (e.g. "432pt"). */
export function svgSize(svg: string): { width?: string; height?: string } {
  const root = /<svg\b[^>]*>/i.exec(svg)?.[0] ?? "";
  return {
    width: /\swidth\s*=\s*["']([^"']*)["']/.exec(root)?.[1],
    height: /\sheight\s*=\s*["']([^"']*)["']/.exec(root)?.[1],
  };
}

const THUMBNAIL = 32;

/** Area-averaged downscale to THUMBNAIL x THUMBNAIL. */
function thumbnail(image: GrayImage): Float64Array {
  const out = new Float64Array(THUMBNAIL * THUMBNAIL);
  const weight = new Float64Array(THUMBNAIL * THUMBNAIL);
  for (let y = 0; y < image.height; y++) {
    const ty = Math.min(THUMBNAIL - 1, Math.floor((y * THUMBNAIL) / image.height));
    for (let x = 0; x < image.width; x++) {
      const tx = Math.min(THUMBNAIL - 1, Math.floor((x * THUMBNAIL) / image.width));
      out[ty * THUMBNAIL + tx] += image.pixels[y * image.width + x];
      weight[ty * THUMBNAIL + tx] += 1;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = weight[i] > 0 ? out[i] / weight[i] : 255;
  return out;
}

/** Perceptual distance in [0, 1]: mean absolute difference of the grayscale thumbnails over 255. */
export function perceptualDistance(a: GrayImage, b: GrayImage): number {
  const ta = thumbnail(a);
  const tb = thumbnail(b);
  let sum = 0;
  for (let i = 0; i < ta.length; i++) sum += Math.abs(ta[i] - tb[i]);
  return sum / ta.length / 255;
}
