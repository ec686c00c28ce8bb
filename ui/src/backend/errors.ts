import { ERROR_CODES, type BackendError, type ErrorCode } from './types';

export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === 'string' && (ERROR_CODES as readonly string[]).includes(x);
}

export function isBackendError(x: unknown): x is BackendError {
  return (
    typeof x === 'object' &&
    x !== null &&
    isErrorCode((x as { code?: unknown }).code) &&
    typeof (x as { message?: unknown }).message === 'string'
  );
}

export function backendError(code: ErrorCode, message: string): BackendError {
  return { code, message };
}

/**
 * Whatever a call threw, as a BackendError: a well-formed {code, message} passes
 * through; a string (Tauri rejects with the serialized error, or a plain message)
 * or an Error becomes `internal`. An unknown code becomes `internal` too, so the UI
 * only ever switches over the closed union.
 */
export function toBackendError(x: unknown): BackendError {
  if (isBackendError(x)) return { code: x.code, message: x.message };
  if (typeof x === 'string') {
    try {
      const parsed: unknown = JSON.parse(x);
      if (isBackendError(parsed)) return { code: parsed.code, message: parsed.message };
    } catch {
      // not JSON: a plain message
    }
    return { code: 'internal', message: x };
  }
  if (typeof x === 'object' && x !== null && typeof (x as { message?: unknown }).message === 'string') {
    return { code: 'internal', message: (x as { message: string }).message };
  }
  return { code: 'internal', message: String(x) };
}
