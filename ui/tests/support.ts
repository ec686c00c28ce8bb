import type { BackendError } from '../src/backend/types';

/** The error a backend call rejected with; fails the test if it resolved. */
export async function rejection(p: Promise<unknown>): Promise<BackendError> {
  try {
    await p;
  } catch (e) {
    return e as BackendError;
  }
  throw new Error('expected a rejection');
}
