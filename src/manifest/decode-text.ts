import { fileError, type ManifestError } from "./manifest-error.js";

/** Files larger than this are refused before parsing: no manifest needs it, and YAML parsing is superlinear on hostile input. */
export const maxManifestFileBytes = 1024 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Turns a file's bytes into text, refusing what cannot be a manifest. */
export function decodeManifestText(
  file: string,
  bytes: Uint8Array,
): { text: string } | { error: ManifestError } {
  if (bytes.byteLength > maxManifestFileBytes) {
    return {
      error: fileError(
        file,
        "FileTooLarge",
        `file is ${bytes.byteLength} bytes; manifests are limited to ${maxManifestFileBytes} bytes (1 MiB)`,
      ),
    };
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    return {
      error: {
        ...fileError(file, "BinaryFile", "file looks binary (contains NUL bytes); manifests are UTF-8 text"),
        ...positionOfByte(bytes, nul),
      },
    };
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return {
      error: {
        ...fileError(file, "InvalidEncoding", "file is not valid UTF-8; manifests are UTF-8 text"),
        ...positionOfByte(bytes, firstInvalidUtf8(bytes)),
      },
    };
  }
  if (text.trim() === "") {
    return {
      error: fileError(file, "EmptyFile", "file is empty; a manifest file holds at least one document"),
    };
  }
  return { text };
}

/** Offset of the first byte that is not part of valid UTF-8: where re-encoding the lenient decoding differs. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const roundTrip = new TextEncoder().encode(new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes));
  let offset = 0;
  while (offset < bytes.length && bytes[offset] === roundTrip[offset]) offset += 1;
  return offset;
}

/** 1-based line and column (in characters, as the YAML positions count them) of a byte offset. */
function positionOfByte(bytes: Uint8Array, offset: number): { line: number; column: number } {
  const lineStart = bytes.lastIndexOf(0x0a, offset - 1) + 1;
  let line = 1;
  for (let index = 0; index < lineStart; index += 1) if (bytes[index] === 0x0a) line += 1;
  const before = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes.subarray(lineStart, offset));
  return { line, column: before.length + 1 };
}
