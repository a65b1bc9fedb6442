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
  if (bytes.includes(0)) {
    return {
      error: fileError(
        file,
        "BinaryFile",
        "file looks binary (contains NUL bytes); manifests are UTF-8 text",
      ),
    };
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { error: fileError(file, "InvalidEncoding", "file is not valid UTF-8; manifests are UTF-8 text") };
  }
  if (text.trim() === "") {
    return {
      error: fileError(file, "EmptyFile", "file is empty; a manifest file holds at least one document"),
    };
  }
  return { text };
}
